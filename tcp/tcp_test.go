package tcp

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"
)

func TestEchoServerWithGoClient(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte("hello, goasync\n")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := ioReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo = %q, want %q", got, msg)
	}
}

func TestConnectWriteReadWithGoServer(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 5)
		if _, err := ioReadFull(c, buf); err != nil {
			return
		}
		c.Write([]byte("line one\r\nline two\nrest:END"))
	}()
	s := await(t, Connect(context.Background(), ln.Addr().String(), withRuntime(r)))
	defer s.Abort()
	await(t, s.WriteString("hello"))
	if got := string(await(t, s.ReadLine())); got != "line one" {
		t.Fatalf("ReadLine = %q", got)
	}
	if got := string(await(t, s.ReadLine())); got != "line two" {
		t.Fatalf("ReadLine = %q", got)
	}
	if got := string(await(t, s.ReadUntil([]byte("END")))); got != "rest:END" {
		t.Fatalf("ReadUntil = %q", got)
	}
	if s.BytesWritten() != 5 {
		t.Fatalf("BytesWritten = %d", s.BytesWritten())
	}
}
