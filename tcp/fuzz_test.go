package tcp

import (
	"bytes"
	"testing"
)

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1:80", "[::1]:443", "localhost:7", ":0", "unix:///tmp/x.sock", "unix://", "a:b:c", "[::1", "host:65536", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := parseAddr(s)
		if err != nil {
			return
		}
		switch tg.network {
		case "unix":
			if tg.host == "" {
				t.Fatalf("%q: empty unix path accepted", s)
			}
		case "tcp":
			if tg.ip.IsValid() && tg.ip.String() == "" {
				t.Fatalf("%q: bad ip", s)
			}
		default:
			t.Fatalf("%q: network %q", s, tg.network)
		}
	})
}

// FuzzReadFraming feeds data in arbitrary pieces to a socket's read
// buffer with line, delimiter and count reads pending, and checks that the
// pieces they return put together give back the data, in order.
func FuzzReadFraming(f *testing.F) {
	f.Add([]byte("line one\r\nline two\nrest;tail"), uint8(3), uint8(7))
	f.Add([]byte("\n\n\r\n;;;"), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, piece, n uint8) {
		if piece == 0 {
			piece = 1
		}
		cfg := newDialConfig(nil)
		cfg.maxBuffered = 1 << 20
		s := newSocket(cfg, nil, "fuzz")
		var out bytes.Buffer
		kinds := []readOp{{kind: readLine}, {kind: readUntil, delim: []byte(";")}, {kind: readN, n: int(n % 16)}}
		k := 0
		for off := 0; off < len(data); off += int(piece) {
			s.in = append(s.in, data[off:min(off+int(piece), len(data))]...)
			for {
				r := kinds[k%len(kinds)]
				raw, n, ok, err := s.take(&r)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				k++
				got := raw[:n]
				if r.kind == readLine { // ReadLine strips the line end
					if bytes.IndexByte(got, '\n') >= 0 || !bytes.HasSuffix(raw, []byte("\n")) ||
						(len(raw)-n == 2) != bytes.HasSuffix(raw, []byte("\r\n")) {
						t.Fatalf("line %q cut from %q", got, raw)
					}
				} else if n != len(raw) {
					t.Fatalf("result %q is not all of the cut %q", got, raw)
				}
				out.Write(raw)
			}
		}
		out.Write(s.in[s.inOff:])
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("reassembled %q, want %q", out.Bytes(), data)
		}
	})
}
