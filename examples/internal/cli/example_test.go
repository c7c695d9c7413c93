package cli_test

import (
	"flag"
	"fmt"
	"os"

	"github.com/goasync/goasync/examples/internal/cli"
)

// A server's command line: -listen beside -port, and -h printing the usage
// on standard output (main would pass the run function's error to Exit,
// which returns for flag.ErrHelp, so the program exits with status 0).
func Example() {
	fs := cli.New("hello-server", cli.Usage{
		Synopsis: []string{"hello-server [-listen ADDR | -port N]"},
		Summary:  "Says hello.",
	}, os.Stdout, os.Stderr)
	port := fs.Int("port", 9999, "TCP port to listen on (all interfaces)")
	listen := fs.Listen(port)

	if err := fs.Parse([]string{"-listen", "127.0.0.1:8080"}); err == nil {
		fmt.Println("listening on", listen())
	}
	err := fs.Parse([]string{"-h"})
	fmt.Println(err == flag.ErrHelp, cli.Status(err))
	// Output:
	// listening on 127.0.0.1:8080
	// usage: hello-server [-listen ADDR | -port N]
	//
	// Says hello.
	//
	// flags:
	//   -listen address
	//     	address to listen on, host:port, e.g. 127.0.0.1:8080 or [::1]:0 (wins over -port)
	//   -port int
	//     	TCP port to listen on (all interfaces) (default 9999)
	// true 0
}
