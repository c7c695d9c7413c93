// Command chat is the anonymous chat room of the "house" seed on goasync's
// HTTP server, and the README's main example:
//
//	go run ./examples/chat            # then open http://localhost:4242/
//
// GET / serves a page (HTML and JavaScript) that joins a room with an
// EventSource and posts what you type. GET /source?room=R streams room R as
// server-sent events; POST /send-message with room (at most 16
// characters), name (1 to 64) and message (5 to 256) publishes to the room.
// Any violation answers 400 and names the parameter.
//
// The handlers are house's define-stream-handler and define-closing-handler
// retold: the parameters are declared once, as a struct with param tags,
// and http.Typed reads and validates them before the handler runs. Rooms
// are channels of an http.Hub (house's subscribe! and publish!); a reader
// that goes away, or falls too far behind, leaves its room by itself.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/goasync/goasync/examples/internal/cli"
	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/http"
)

//go:embed page.html
var page string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli.Exit("chat", run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// source is the parameter of GET /source.
type source struct {
	Room string `param:"room,required,max=16"`
}

// sendMessage holds the parameters of POST /send-message.
type sendMessage struct {
	Room    string `param:"room,required,max=16"`
	Name    string `param:"name,required,min=1,max=64"`
	Message string `param:"message,required,min=5,max=256"`
}

// message is what a room's subscribers receive, as JSON, in each event.
type message struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// routes builds the chat's handler around a hub of rooms.
func routes(hub *http.Hub, logf func(format string, args ...any)) *http.Router {
	rt := http.NewRouter()
	rt.HandleFunc("GET /{$}", func(*nethttp.Request) *future.Future[*http.Response] {
		return http.Reply(http.HTML(200, page))
	})
	rt.Handle("GET /source", http.Typed(func(r *nethttp.Request, p *source) *future.Future[*http.Response] {
		return http.Reply(http.SSE(func(s *http.Stream) {
			hub.Subscribe(p.Room, s)
			logf("%s joined room %q (%d listening)", r.RemoteAddr, p.Room, hub.Count(p.Room))
			s.OnClose(func(err error) { logf("%s left room %q", r.RemoteAddr, p.Room) })
		}))
	}))
	rt.Handle("POST /send-message", http.Typed(func(r *nethttp.Request, p *sendMessage) *future.Future[*http.Response] {
		data, err := json.Marshal(message{Name: p.Name, Message: p.Message})
		if err != nil {
			return http.Reply(http.Error(500, err.Error()))
		}
		n := hub.Publish(p.Room, http.Event{Data: string(data)})
		logf("%s said %q in room %q (%d listening)", p.Name, p.Message, p.Room, n)
		return http.Reply(http.Text(200, "ok"))
	}))
	return rt
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := cli.New("chat", cli.Usage{
		Synopsis: []string{"chat [-listen ADDR | -port N] [-q]"},
		Summary:  "An anonymous chat room (house's example): open the address it prints in a browser.",
	}, stdout, stderr)
	port := fs.Int("port", 4242, "TCP port to listen on (all interfaces); 0 picks a free one")
	listen := fs.Listen(port)
	quiet := fs.Bool("q", false, "do not log joins and messages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logf := func(format string, args ...any) {
		if !*quiet {
			fmt.Fprintf(stdout, format+"\n", args...)
		}
	}

	hub := http.NewHub()
	srv, err := http.Listen(listen(), routes(hub, logf))
	if err != nil {
		return err
	}
	url := pageURL(srv.Addr())
	fmt.Fprintf(stdout, "Chat room: Listening on %s; open %s\n", srv.Addr(), url)

	<-ctx.Done()
	fmt.Fprintln(stdout, "Shutting down.")
	closeCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Close(closeCtx) // open event streams are cut when closeCtx ends
	return nil
}

// pageURL is the address to open in a browser: localhost when the server
// listens on every interface, else the address it listens on.
func pageURL(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := ap.Addr(); ip.IsUnspecified() {
		return "http://localhost:" + strconv.Itoa(int(ap.Port())) + "/"
	}
	return "http://" + ap.String() + "/"
}
