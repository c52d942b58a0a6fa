package ws

import (
	"encoding/json"
	"strconv"
)

// protocol names one subprotocol's message types; an empty name is a message the
// subprotocol does not have.
type protocol struct {
	name string
	// client → server
	init, subscribe, stop, ping, pong, terminate string
	// server → client
	ack, next, err, complete, keepAlive, connError, pongReply string
	// legacy is subscriptions-transport-ws: errors before a close are sent as
	// connection_error, and protocol violations close with 1002 rather than graphql-ws's 44xx.
	legacy bool
}

var (
	// protoTransport is https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md.
	protoTransport = &protocol{
		name:      "graphql-transport-ws",
		init:      "connection_init",
		subscribe: "subscribe",
		stop:      "complete",
		ping:      "ping",
		pong:      "pong",
		ack:       "connection_ack",
		next:      "next",
		err:       "error",
		complete:  "complete",
		pongReply: "pong",
	}
	// protoLegacy is https://github.com/apollographql/subscriptions-transport-ws/blob/master/PROTOCOL.md.
	protoLegacy = &protocol{
		name:      "graphql-ws",
		init:      "connection_init",
		subscribe: "start",
		stop:      "stop",
		terminate: "connection_terminate",
		ack:       "connection_ack",
		next:      "data",
		err:       "error",
		complete:  "complete",
		keepAlive: "ka",
		connError: "connection_error",
		legacy:    true,
	}
)

// Close codes (RFC 6455 and graphql-transport-ws).
const (
	closeNormal          = 1000
	closeGoingAway       = 1001
	closeProtocolError   = 1002
	closeInvalidMessage  = 4400
	closeUnauthorized    = 4401
	closeForbidden       = 4403
	closeInitTimeout     = 4408
	closeSubscriberExist = 4409
	closeTooManyInits    = 4429
)

// kind is what a client message asks for, whatever the subprotocol calls it.
type kind uint8

const (
	kindInvalid kind = iota
	kindInit
	kindSubscribe
	kindStop
	kindPing
	kindPong
	kindTerminate
)

// clientMessage is a message from the client.
type clientMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// kindOf is what m asks for in p; kindInvalid for a type p does not know from a client.
func (p *protocol) kindOf(m *clientMessage) kind {
	switch m.Type {
	case "":
		return kindInvalid
	case p.init:
		return kindInit
	case p.subscribe:
		return kindSubscribe
	case p.stop:
		return kindStop
	case p.ping:
		return kindPing
	case p.pong:
		return kindPong
	case p.terminate:
		return kindTerminate
	}
	return kindInvalid
}

// appendMessage appends a server message to b: {"type":…,"id":…,"payload":…}, id and
// payload left out when empty (as gqlgen's omitempty does).
func appendMessage(b []byte, typ, id string, payload []byte) []byte {
	b = append(b, `{"type":`...)
	b = strconv.AppendQuote(b, typ)
	if id != "" {
		b = append(b, `,"id":`...)
		idJSON, _ := json.Marshal(id) // a string always marshals
		b = append(b, idJSON...)
	}
	if len(payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	return append(b, '}')
}
