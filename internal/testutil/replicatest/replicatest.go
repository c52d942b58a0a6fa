// Package replicatest runs a throwaway PostgreSQL primary and its streaming replica for one
// test (scripts/replica.sh), so that the test can pause the replica's replay or stop it. The
// machine's own cluster is never touched.
package replicatest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Pair is a primary and its replica, owned by one test.
type Pair struct {
	t testing.TB
	// PrimaryURL and ReplicaURL connect to the postgres database of each, as user postgres.
	PrimaryURL, ReplicaURL string

	mu    sync.Mutex
	stdin io.WriteCloser
	lines *bufio.Scanner
}

// Start starts a primary and its replica on free ports and waits until both answer; both are
// stopped and their files removed when t ends. It fails t (never skips) when PostgreSQL's
// binaries are missing: the replica's tests are part of the suite.
func Start(t testing.TB) *Pair {
	t.Helper()
	script, err := filepath.Abs(filepath.Join(repoRoot(t), "scripts", "replica.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "shopgraph-replica-")
	if err != nil {
		t.Fatal(err)
	}
	pport, rport := freePort(t), freePort(t)
	cmd := exec.Command(script, dir, fmt.Sprint(pport), fmt.Sprint(rport))
	// The script stops both servers when its stdin closes or it is told to end: also when
	// this test process dies without running its cleanups (the kernel closes the pipe, and
	// sends the script SIGTERM).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	cmd.Stderr = &logWriter{t: t}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Pdeathsig follows the thread that started the child: keep it alive until Start returns
	// (Go never ends a thread that no goroutine locked).
	runtime.LockOSThread()
	err = cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatalf("replicatest: start %s: %v", script, err)
	}
	p := &Pair{
		t:          t,
		PrimaryURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pport),
		ReplicaURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", rport),
		stdin:      stdin,
		lines:      bufio.NewScanner(stdout),
	}
	t.Cleanup(func() {
		_ = stdin.Close() // the script stops both servers and exits
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		_ = os.RemoveAll(dir)
	})
	if !p.lines.Scan() || p.lines.Text() != "ready" {
		t.Fatalf("replicatest: scripts/replica.sh did not start a primary and a replica (its log is above): %q %v", p.lines.Text(), p.lines.Err())
	}
	return p
}

// StopReplica stops the replica at once, as a crash would.
func (p *Pair) StopReplica() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.stdin, "stop-replica\n"); err != nil {
		p.t.Fatalf("replicatest: stop the replica: %v", err)
	}
	if !p.lines.Scan() || p.lines.Text() != "ok" {
		p.t.Fatalf("replicatest: stop the replica: %q %v", p.lines.Text(), p.lines.Err())
	}
}

// PauseReplay stops the replica from applying the primary's WAL until ResumeReplay: the
// replica then lags behind every later write.
func (p *Pair) PauseReplay(ctx context.Context) { p.exec(ctx, "SELECT pg_wal_replay_pause()") }

// ResumeReplay lets the replica apply the WAL again.
func (p *Pair) ResumeReplay(ctx context.Context) { p.exec(ctx, "SELECT pg_wal_replay_resume()") }

func (p *Pair) exec(ctx context.Context, sql string) {
	p.t.Helper()
	conn, err := pgx.Connect(ctx, p.ReplicaURL)
	if err != nil {
		p.t.Fatalf("replicatest: connect to the replica: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		p.t.Fatalf("replicatest: %s: %v", sql, err)
	}
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// repoRoot is the directory holding go.mod, above the test's working directory.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("replicatest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// logWriter passes the script's progress to the test's log.
type logWriter struct{ t testing.TB }

func (w *logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
