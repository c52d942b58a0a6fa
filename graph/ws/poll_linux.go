//go:build linux

package ws

import (
	"log/slog"
	"net"
	"sync"
	"syscall"
)

// poller tells, through one epoll instance and one goroutine for the whole server, when an
// idle connection's socket has input: a connection waiting for its client holds no goroutine
// (and no stack: a goroutine parked in a socket read keeps 4 KiB or more), and one is
// started to read and handle a message when it comes. EPOLLONESHOT: a connection is reported
// once, until it asks again (rearm), so one goroutine at most reads it.
type poller struct {
	epfd int

	mu    sync.Mutex
	conns map[int32]polled // by file descriptor
	seq   uint32
}

// polled is a registered connection; seq tells it from an earlier one whose descriptor
// number was reused (an event read before the earlier one was removed).
type polled struct {
	c   *conn
	seq uint32
}

var (
	pollOnce sync.Once
	thePoll  *poller
)

// watch registers c (its socket nc) with the server's poller; false when it cannot be (then
// the caller reads c on a goroutine of its own).
func watch(c *conn, nc net.Conn) bool {
	pollOnce.Do(func() {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			slog.Warn("websocket: no epoll, one goroutine per connection", "err", err)
			return
		}
		thePoll = &poller{epfd: fd, conns: map[int32]polled{}}
		go thePoll.wait()
	})
	p := thePoll
	if p == nil {
		return false
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var added bool
	_ = raw.Control(func(fd uintptr) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.seq++
		ev := syscall.EpollEvent{Events: pollEvents, Fd: int32(fd), Pad: int32(p.seq)}
		// Set before the poller can see the connection: its first readable may come at once.
		c.rearm = func() bool {
			ok := false
			_ = raw.Control(func(fd uintptr) {
				ev := ev
				ok = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev) == nil
			})
			return ok
		}
		c.unwatch = func() {
			_ = raw.Control(func(fd uintptr) {
				p.mu.Lock()
				defer p.mu.Unlock()
				if r, ok := p.conns[int32(fd)]; ok && r.c == c {
					delete(p.conns, int32(fd))
				}
				_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
			})
		}
		p.conns[int32(fd)] = polled{c: c, seq: p.seq}
		if syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev) != nil {
			delete(p.conns, int32(fd))
			c.rearm, c.unwatch = nil, nil
			return
		}
		added = true
	})
	return added
}

// EPOLLRDHUP and EPOLLHUP report a client gone, which the read then finds.
const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

func (p *poller) wait() {
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			slog.Error("websocket: epoll_wait failed; polled connections are no longer read", "err", err)
			return
		}
		for _, ev := range events[:n] {
			p.mu.Lock()
			r, ok := p.conns[ev.Fd]
			p.mu.Unlock()
			if ok && r.seq == uint32(ev.Pad) {
				go r.c.readable()
			}
		}
	}
}
