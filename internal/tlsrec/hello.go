package tlsrec

// Record framing, read only to know when a ClientHello is complete. The
// bytes are then handed, untouched, to crypto/tls, which does all parsing
// and validation.
const (
	recordHeaderLen     = 5
	recordTypeHandshake = 0x16
	// maxRecord is crypto/tls's bound for a ciphertext record (2^14 +
	// 2048); a larger length is garbage that crypto/tls rejects.
	maxRecord = 16384 + 2048
	// maxHello is crypto/tls's bound on one handshake message.
	maxHello = 65536
)

// helloReady reports whether buf holds a whole ClientHello, or enough
// bytes to see that it cannot start one (then crypto/tls should run now
// and reject it). It reads record headers and the 4-byte handshake header
// only.
func helloReady(buf []byte) bool {
	var hs [4]byte // the handshake message header, gathered across records
	got := 0       // handshake payload bytes seen so far
	for len(buf) > 0 {
		if buf[0] != recordTypeHandshake {
			return true // not a handshake record: garbage or an alert
		}
		if len(buf) < recordHeaderLen {
			return false
		}
		n := int(buf[3])<<8 | int(buf[4])
		if n == 0 || n > maxRecord {
			return true
		}
		body := buf[recordHeaderLen:]
		complete := len(body) >= n
		if complete {
			body = body[:n]
		}
		for _, b := range body {
			if got < len(hs) {
				hs[got] = b
			}
			got++
		}
		if got >= len(hs) {
			if hs[0] != 1 { // not a ClientHello
				return true
			}
			size := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
			if size > maxHello || got >= len(hs)+size {
				return true
			}
		}
		if !complete {
			return false
		}
		buf = buf[recordHeaderLen+n:]
	}
	return false
}
