package tlsrec

import (
	"crypto/tls"
	"testing"

	"github.com/goasync/goasync/internal/tlstest"
)

func testPKI(t testing.TB) *tlstest.PKI { return tlstest.Get(t) }

func serverConfig(cert tls.Certificate, vmin, vmax uint16) *tls.Config {
	return tlstest.ServerConfig(cert, vmin, vmax)
}
