package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestHelpExitsZero(t *testing.T) {
	extest.CheckHelp(t, "delay-server", "-listen", "-port", "-delay", "-stats")
}

func TestListenFlag(t *testing.T) {
	srv := extest.StartServer(t, run, append([]string{"-delay", "10ms", "-stats", "0"}, extest.ListenArgs...)...)
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://" + extest.CheckListen(t, srv) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || string(body) != "omglolwtf" {
		t.Fatalf("%d %q %v", resp.StatusCode, body, err)
	}
}
