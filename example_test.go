package goasync_test

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/tcp"
)

// A program installs its logger once, uses the library, reads the counters
// and shuts the shared runtime down before it exits.
func Example() {
	goasync.SetLogger(zap.NewNop()) // zap.NewDevelopment() traces every step at debug level
	defer goasync.SetLogger(nil)

	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnData: func(s *tcp.Socket, data []byte) { s.Write(data) }, // echo
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	reply := future.Compose(tcp.Send(ctx, srv.Addr().String(), []byte("ping\n")), func(s *tcp.Socket) *future.Future[[]byte] {
		return s.ReadLine().Finally(func() { s.Close() })
	})
	line, err := reply.Await(ctx)
	fmt.Printf("%s %v\n", line, err)

	st := goasync.ReadStats()
	fmt.Println("accepted at least one:", st.AcceptedTotal >= 1)

	_ = srv.Close(ctx)
	fmt.Println(goasync.Shutdown(ctx))
	// Output:
	// ping <nil>
	// accepted at least one: true
	// <nil>
}
