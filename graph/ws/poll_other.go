//go:build !linux

package ws

import "net"

// watch has no poller outside Linux: each connection is read by a goroutine of its own.
func watch(c *conn, nc net.Conn) bool { return false }
