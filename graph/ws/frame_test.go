package ws

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// clientFrame is a masked client frame, as browsers send them.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b := []byte{op}
	if fin {
		b[0] |= 0x80
	}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	key := [4]byte{1, 2, 3, 4}
	b = append(b, key[:]...)
	masked := bytes.Clone(payload)
	unmask(masked, key, 0)
	return append(b, masked...)
}

func TestReadMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 70000)
	for _, tc := range []struct {
		name    string
		in      []byte
		limit   int64
		want    string
		pings   []string
		wantErr error
		close   int
	}{
		{name: "a text frame", in: clientFrame(true, opText, []byte(`{"type":"ping"}`)), want: `{"type":"ping"}`},
		{name: "16- and 64-bit lengths", in: clientFrame(true, opText, []byte(long)), want: long},
		{
			name: "fragments with a ping between them",
			in: bytes.Join([][]byte{
				clientFrame(false, opText, []byte("ab")),
				clientFrame(true, opPing, []byte("hi")),
				clientFrame(false, opContinuation, []byte("cd")),
				clientFrame(true, opContinuation, []byte("e")),
			}, nil),
			want: "abcde", pings: []string{"hi"},
		},
		{name: "a close frame", in: clientFrame(true, opClose, []byte{0x03, 0xE8, 'b', 'y', 'e'}), close: 1000},
		{name: "an empty close frame", in: clientFrame(true, opClose, nil), close: closeNoStatus},
		{name: "an unmasked frame", in: []byte{0x81, 0x01, 'a'}, wantErr: errProtocol},
		{name: "reserved bits", in: append([]byte{0xC1}, clientFrame(true, opText, []byte("a"))[1:]...), wantErr: errProtocol},
		{name: "a fragmented control frame", in: clientFrame(false, opPing, nil), wantErr: errProtocol},
		{name: "a continuation without a start", in: clientFrame(true, opContinuation, []byte("a")), wantErr: errProtocol},
		{name: "over the limit", in: clientFrame(true, opText, []byte("abcdef")), limit: 5, wantErr: errTooBig},
		{name: "a 1-byte close payload", in: clientFrame(true, opClose, []byte{0x03}), wantErr: errProtocol},
		{name: "close code 1005", in: clientFrame(true, opClose, []byte{0x03, 0xED}), wantErr: errProtocol},
		{name: "close code 1006", in: clientFrame(true, opClose, []byte{0x03, 0xEE}), wantErr: errProtocol},
		{name: "close code 1015", in: clientFrame(true, opClose, []byte{0x03, 0xF7}), wantErr: errProtocol},
		{name: "close code 999", in: clientFrame(true, opClose, []byte{0x03, 0xE7}), wantErr: errProtocol},
		{name: "close code 5000", in: clientFrame(true, opClose, []byte{0x13, 0x88}), wantErr: errProtocol},
		{name: "close code 4000", in: clientFrame(true, opClose, []byte{0x0F, 0xA0}), close: 4000},
		{name: "a close reason not UTF-8", in: clientFrame(true, opClose, []byte{0x03, 0xE8, 0xFF}), wantErr: errInvalidUTF8},
		{name: "a text message not UTF-8", in: clientFrame(true, opText, []byte{'a', 0xFF}), wantErr: errInvalidUTF8},
		{
			name: "a rune split across fragments",
			in: bytes.Join([][]byte{
				clientFrame(false, opText, []byte("\xc3")),
				clientFrame(true, opContinuation, []byte("\xa9")),
			}, nil),
			want: "é",
		},
		{name: "a binary message need not be UTF-8", in: clientFrame(true, opBinary, []byte{0xFF}), want: "\xff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pings []string
			got, err := readMessage(bytes.NewReader(tc.in), nil, tc.limit, false, func(op byte, p []byte) {
				if op == opPing {
					pings = append(pings, string(p))
				}
			})
			var cf *closeFrame
			switch {
			case tc.close != 0:
				if !errors.As(err, &cf) || cf.code != tc.close {
					t.Fatalf("got %v, want a close frame %d", err, tc.close)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
			default:
				if err != nil || string(got) != tc.want {
					t.Fatalf("got %.40q, %v; want %.40q", got, err, tc.want)
				}
			}
			if strings.Join(pings, ",") != strings.Join(tc.pings, ",") {
				t.Fatalf("pings %q, want %q", pings, tc.pings)
			}
		})
	}
}

func TestAppendFrameHeader(t *testing.T) {
	t.Parallel()
	for n, header := range map[int][]byte{
		0:     {0x81, 0},
		125:   {0x81, 125},
		126:   {0x81, 126, 0, 126},
		65536: {0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0},
	} {
		if got := appendFrameHeader(nil, opText, n); !bytes.Equal(got, header) {
			t.Errorf("%d bytes: header % x, want % x", n, got, header)
		}
	}
	if got := closePayload(4408, strings.Repeat("é", 100)); len(got) > maxControlPayload {
		t.Errorf("close payload of %d bytes", len(got))
	}
}

func TestTruncateKeepsRunes(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("é", 60) // 120 bytes
	got := truncate(id, 80)
	if !utf8.ValidString(got) || len(got) > 80 || len(got) < 79 {
		t.Fatalf("truncate: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if truncate("abc", 80) != "abc" {
		t.Fatal("a short string changed")
	}
}
