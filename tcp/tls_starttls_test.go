package tcp

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/tlstest"
)

// pipelinedStartTLS is a client transport that sends "STARTTLS\n" in the
// same write as the ClientHello (one segment), then expects the server's
// plaintext "220 go ahead\n" before the TLS records.
type pipelinedStartTLS struct {
	net.Conn
	sent bool
	r    *bufio.Reader
	t    *testing.T
}

func (c *pipelinedStartTLS) Write(b []byte) (int, error) {
	if !c.sent {
		c.sent = true
		if _, err := c.Conn.Write(append([]byte("STARTTLS\n"), b...)); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *pipelinedStartTLS) Read(b []byte) (int, error) {
	if c.r == nil {
		c.r = bufio.NewReader(c.Conn)
		line, err := c.r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if line != "220 go ahead\n" {
			c.t.Errorf("plaintext reply %q", line)
		}
	}
	return c.r.Read(b)
}

// A ClientHello that arrives in the same segment as the STARTTLS command
// is left in the socket's buffer by ReadLine: StartTLS hands it to the
// handshake (before, it was dropped as plaintext and the handshake waited
// for a hello that had already come, until its timeout).
func TestStartTLSPipelinedHello(t *testing.T) {
	p := tlstest.Get(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		scfg := tlstest.ServerConfig(p.Localhost, v, v)
		srv, err := Listen("127.0.0.1:0", Handler{OnConnect: func(s *Socket) {
			s.ReadLine().OnComplete(func(line []byte, err error) {
				if err != nil || string(line) != "STARTTLS" {
					t.Errorf("command %q %v", line, err)
					s.Close()
					return
				}
				s.WriteString("220 go ahead\n")
				s.StartTLS(scfg).OnComplete(func(_ struct{}, err error) {
					if err != nil {
						t.Errorf("server handshake: %v", err)
						return
					}
					s.ReadLine().OnComplete(func(l []byte, err error) {
						if err == nil {
							s.WriteString("echo " + string(l) + "\n")
						}
					})
				})
			})
		}}, WithHandshakeTimeout(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		tc := tls.Client(&pipelinedStartTLS{Conn: c, t: t}, p.ClientConfig("localhost", v, v))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("%x: handshake: %v", v, err)
		}
		tc.Write([]byte("secret\n"))
		line, err := bufio.NewReader(tc).ReadString('\n')
		if err != nil || line != "echo secret\n" {
			t.Fatalf("%x: %q %v", v, line, err)
		}
		if tc.ConnectionState().Version != v {
			t.Fatalf("version %x", tc.ConnectionState().Version)
		}
		tc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Close(ctx)
		cancel()
	}
}
