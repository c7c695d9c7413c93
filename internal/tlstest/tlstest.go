// Package tlstest makes certificates for tests with crypto/x509: a CA,
// leaves for localhost and other names, an expired one, one from an
// unknown CA, and PEM files for openssl and curl. Test code only.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// TB is the part of testing.TB the package uses; nil makes failures
// panic (for Example functions).
type TB interface {
	Helper()
	Fatal(args ...any)
}

func helper(t TB) {
	if t != nil {
		t.Helper()
	}
}

// fatal reports err through t, or panics when t is nil (examples).
func fatal(t TB, err error) {
	if t == nil {
		panic(err)
	}
	t.Fatal(err)
}

// CA is a certificate authority made for the tests.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	Pool *x509.CertPool // holds Cert only
	PEM  []byte         // Cert, PEM-encoded
}

var serial struct {
	sync.Mutex
	n int64
}

func nextSerial() *big.Int {
	serial.Lock()
	defer serial.Unlock()
	serial.n++
	return big.NewInt(serial.n)
}

// NewCA makes a CA named name (ECDSA P-256, valid a day).
func NewCA(t TB, name string) *CA {
	helper(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fatal(t, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		fatal(t, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		fatal(t, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, Key: key, Pool: pool,
		PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// Leaf issues a server and client certificate for the names (DNS names or
// IPs), valid from notBefore to notAfter (zero: valid now).
func (ca *CA) Leaf(t TB, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	helper(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fatal(t, err)
	}
	if notBefore.IsZero() {
		notBefore, notAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		fatal(t, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		fatal(t, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// WritePEM writes the certificate chain and key of c to dir, for openssl
// and curl, and returns the two paths.
func WritePEM(t TB, dir, name string, c tls.Certificate) (certFile, keyFile string) {
	helper(t)
	der, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		fatal(t, err)
	}
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	var chain []byte
	for _, b := range c.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b})...)
	}
	if err := os.WriteFile(certFile, chain, 0o600); err != nil {
		fatal(t, err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		fatal(t, err)
	}
	return certFile, keyFile
}

// PKI is the shared set of test certificates.
type PKI struct {
	CA, OtherCA *CA
	Localhost   tls.Certificate // localhost, 127.0.0.1, ::1
	A, B        tls.Certificate // a.test, b.test (for SNI)
	Expired     tls.Certificate // localhost, 127.0.0.1; expired yesterday
	Untrusted   tls.Certificate // localhost, 127.0.0.1; issued by OtherCA
}

var (
	pkiOnce sync.Once
	thePKI  *PKI
)

// Get returns the process's test PKI, made on first use.
func Get(t TB) *PKI {
	pkiOnce.Do(func() {
		p := &PKI{CA: NewCA(t, "goasync test CA"), OtherCA: NewCA(t, "unknown CA")}
		p.Localhost = p.CA.Leaf(t, time.Time{}, time.Time{}, "localhost", "127.0.0.1", "::1")
		p.A = p.CA.Leaf(t, time.Time{}, time.Time{}, "a.test")
		p.B = p.CA.Leaf(t, time.Time{}, time.Time{}, "b.test")
		p.Expired = p.CA.Leaf(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour), "localhost", "127.0.0.1")
		p.Untrusted = p.OtherCA.Leaf(t, time.Time{}, time.Time{}, "localhost", "127.0.0.1")
		thePKI = p
	})
	return thePKI
}

// ServerConfig serves cert with TLS versions [vmin, vmax] (0: Go's
// defaults).
func ServerConfig(cert tls.Certificate, vmin, vmax uint16) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: vmin, MaxVersion: vmax}
}

// ClientConfig trusts the test CA and expects the name (empty: the
// dialled host).
func (p *PKI) ClientConfig(name string, vmin, vmax uint16) *tls.Config {
	return &tls.Config{RootCAs: p.CA.Pool, ServerName: name, MinVersion: vmin, MaxVersion: vmax}
}

// Files writes the CA and the localhost certificate and key as PEM to
// dir, for openssl and curl.
func (p *PKI) Files(t TB, dir string) (caFile, certFile, keyFile string) {
	caFile = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, p.CA.PEM, 0o600); err != nil {
		fatal(t, err)
	}
	certFile, keyFile = WritePEM(t, dir, "localhost", p.Localhost)
	return caFile, certFile, keyFile
}
