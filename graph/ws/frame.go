package ws

import (
	"encoding/binary"
	"errors"
	"io"
	"unicode/utf8"
)

// RFC 6455 framing, after the handshake (gorilla/websocket's Upgrade does that). The library's
// own reader reads through a buffer it keeps, so bytes may wait in it that the socket no
// longer shows: a connection could then not be left without a goroutine until the socket
// is readable (poll_linux.go). This reader reads exactly each frame's bytes, nothing ahead.

// Opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close codes of the framing itself.
const (
	closeTooBig       = 1009
	closeNoStatus     = 1005
	maxControlPayload = 125
)

// errProtocol is a client frame RFC 6455 does not allow (unmasked, reserved bits, bad
// control frame): the connection is closed with 1002.
var errProtocol = errors.New("websocket: protocol error")

// errTooBig is a message over the read limit: closed with 1009.
var errTooBig = errors.New("websocket: message too big")

// errInvalidUTF8 is a text message (or a close reason) that is not UTF-8: closed with 1007.
var errInvalidUTF8 = errors.New("websocket: invalid UTF-8")

const closeInvalidPayload = 1007

// validCloseCode says whether a client may send code in a close frame (RFC 6455 7.4): 1005,
// 1006 and 1015 are never sent, and the unassigned ranges are not to be used.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	default:
		return code >= 3000 && code <= 4999
	}
}

// closeFrame is the client's close frame, returned by readMessage as an error.
type closeFrame struct {
	code   int
	reason string
}

func (c *closeFrame) Error() string { return "websocket: closed by the client" }

// frameHeader is one client frame's header.
type frameHeader struct {
	fin    bool
	opcode byte
	length int64
	mask   [4]byte
}

func readHeader(r io.Reader) (frameHeader, error) {
	var h frameHeader
	var b [8]byte
	if _, err := io.ReadFull(r, b[:2]); err != nil {
		return h, err
	}
	h.fin = b[0]&0x80 != 0
	h.opcode = b[0] & 0x0F
	masked := b[1]&0x80 != 0
	if b[0]&0x70 != 0 || !masked {
		return h, errProtocol // no extension was negotiated; clients must mask
	}
	switch n := b[1] & 0x7F; n {
	case 126:
		if _, err := io.ReadFull(r, b[:2]); err != nil {
			return h, err
		}
		h.length = int64(binary.BigEndian.Uint16(b[:2]))
	case 127:
		if _, err := io.ReadFull(r, b[:8]); err != nil {
			return h, err
		}
		h.length = int64(binary.BigEndian.Uint64(b[:8]))
		if h.length < 0 {
			return h, errProtocol
		}
	default:
		h.length = int64(n)
	}
	if h.opcode >= opClose && (!h.fin || h.length > maxControlPayload) {
		return h, errProtocol
	}
	if _, err := io.ReadFull(r, h.mask[:]); err != nil {
		return h, err
	}
	return h, nil
}

// errNoMessage: a control frame was answered and no data message is under way (readMessage
// with controlOnly): a polled connection goes back to the poller rather than wait in a read.
var errNoMessage = errors.New("websocket: control frame only")

// readMessage reads the next data message (text or binary) into buf, answering the control
// frames before it with control (ping: pong); a close frame is returned as *closeFrame. With
// controlOnly it returns errNoMessage after a control frame that no data frame preceded.
func readMessage(r io.Reader, buf []byte, limit int64, controlOnly bool, control func(op byte, payload []byte)) ([]byte, error) {
	buf = buf[:0]
	started, text := false, false
	for {
		h, err := readHeader(r)
		if err != nil {
			return buf, err
		}
		switch {
		case h.opcode >= opClose:
			var p [maxControlPayload]byte
			payload := p[:h.length]
			if _, err := io.ReadFull(r, payload); err != nil {
				return buf, err
			}
			unmask(payload, h.mask, 0)
			switch h.opcode {
			case opClose:
				cf := &closeFrame{code: closeNoStatus}
				switch {
				case len(payload) == 1:
					return buf, errProtocol
				case len(payload) >= 2:
					cf.code = int(binary.BigEndian.Uint16(payload))
					if !validCloseCode(cf.code) {
						return buf, errProtocol
					}
					if !utf8.Valid(payload[2:]) {
						return buf, errInvalidUTF8
					}
					cf.reason = string(payload[2:])
				}
				return buf, cf
			case opPing, opPong:
				control(h.opcode, payload)
				if controlOnly && !started {
					return buf, errNoMessage
				}
			default:
				return buf, errProtocol
			}
			continue
		case h.opcode == opContinuation && !started, (h.opcode == opText || h.opcode == opBinary) && started:
			return buf, errProtocol
		case h.opcode != opContinuation && h.opcode != opText && h.opcode != opBinary:
			return buf, errProtocol
		}
		if !started {
			text = h.opcode == opText
		}
		started = true
		if limit > 0 && int64(len(buf))+h.length > limit {
			return buf, errTooBig
		}
		n := len(buf)
		buf = grow(buf, int(h.length))
		if _, err := io.ReadFull(r, buf[n:]); err != nil {
			return buf, err
		}
		unmask(buf[n:], h.mask, 0)
		if h.fin {
			if text && !utf8.Valid(buf) {
				return buf, errInvalidUTF8
			}
			return buf, nil
		}
	}
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, max(2*cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

func unmask(b []byte, key [4]byte, pos int) {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
}

// appendFrameHeader appends the header of a server frame (unmasked, final) of n bytes.
func appendFrameHeader(b []byte, opcode byte, n int) []byte {
	b = append(b, 0x80|opcode)
	switch {
	case n <= 125:
		return append(b, byte(n))
	case n <= 0xFFFF:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}

// closePayload is a close frame's body: the code and the reason, cut to fit a control frame.
func closePayload(code int, reason string) []byte {
	if code == closeNoStatus {
		return nil
	}
	if len(reason) > maxControlPayload-2 {
		reason = reason[:maxControlPayload-2]
		for !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	b := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(b, reason...)
}
