package app_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// servicesScript is scripts/services.sh, from this package's directory (where tests run).
var servicesScript = filepath.Join("..", "..", "scripts", "services.sh")

// freePort is a loopback port that nothing listens on (as far as anyone can know).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

func answers(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// withStripeMock runs `scripts/services.sh with-stripe-mock args...` on port, with a fake
// stripe-mock (a Python HTTP server: the real one is a long build), and returns its output.
func withStripeMock(t *testing.T, port int, dir string, args ...string) (string, error) {
	t.Helper()
	return withStripeMockEnv(t, port, dir, nil, append([]string{"bash", servicesScript, "with-stripe-mock"}, args...)...)
}

// withStripeMockEnv runs argv with env and the fake stripe-mock's settings.
func withStripeMockEnv(t *testing.T, port int, dir string, env []string, argv ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3 for a fake stripe-mock")
	}
	fake := filepath.Join(dir, "fake-stripe-mock")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n# -http-addr HOST:PORT\naddr=\"$2\"\nexec python3 -m http.server --bind \"${addr%:*}\" \"${addr##*:}\"\n"), 0o755))
	// Should the script leave its stripe-mock running, the test still stops it.
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(dir, "stripe-mock-"+strconv.Itoa(port)+".pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && !strings.Contains(t.Name(), "already running") {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), env...), "STRIPE_MOCK_PORT="+strconv.Itoa(port), "STRIPE_MOCK_BIN="+fake, "STRIPE_MOCK_DIR="+dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// `make run` runs the server through `scripts/services.sh with-stripe-mock`.
func TestServicesWithStripeMock(t *testing.T) {
	t.Parallel()

	t.Run("stops the stripe-mock it started when the command ends", func(t *testing.T) {
		port, dir := freePort(t), t.TempDir()
		url := "http://127.0.0.1:" + strconv.Itoa(port)
		out, err := withStripeMock(t, port, dir, "sh", "-c", `echo "base=$STRIPE_API_BASE"`)
		require.NoError(t, err, out)
		require.Contains(t, out, "base="+url, "the command is given the stripe-mock")
		require.Eventually(t, func() bool { return !answers(port) }, 10*time.Second, 50*time.Millisecond,
			"the stripe-mock it started still answers:\n%s", out)
		require.NoFileExists(t, filepath.Join(dir, "stripe-mock-"+strconv.Itoa(port)+".pid"))
	})

	t.Run("stops it when the command fails, and exits with its status", func(t *testing.T) {
		port, dir := freePort(t), t.TempDir()
		out, err := withStripeMock(t, port, dir, "sh", "-c", "exit 3")
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr, out)
		require.Equal(t, 3, exitErr.ExitCode())
		require.Eventually(t, func() bool { return !answers(port) }, 10*time.Second, 50*time.Millisecond, out)
	})

	t.Run("stops it when Ctrl-C stops the command", func(t *testing.T) {
		port, dir := freePort(t), t.TempDir()
		// A terminal's Ctrl-C signals the whole foreground process group. Started from a
		// script, the test (and its children) may ignore SIGINT: Python restores it.
		launch := `import os, signal, subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], preexec_fn=lambda: (os.setsid(), signal.signal(signal.SIGINT, signal.SIG_DFL)))
time.sleep(float(os.environ["WAIT"]))
os.killpg(p.pid, signal.SIGINT)
sys.exit(p.wait())`
		out, err := withStripeMockEnv(t, port, dir, []string{"WAIT=3"}, "python3", "-c", launch,
			"bash", servicesScript, "with-stripe-mock", "sleep", "60")
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr, out)
		require.Equal(t, 130, exitErr.ExitCode(), out)
		require.Contains(t, out, "starting stripe-mock")
		require.Eventually(t, func() bool { return !answers(port) }, 10*time.Second, 50*time.Millisecond, out)
	})

	t.Run("leaves a stripe-mock that was already running alone", func(t *testing.T) {
		dir := t.TempDir()
		// A stripe-mock started earlier (say by make test), with its pid file.
		running, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer running.Close()
		go func() {
			for {
				c, err := running.Accept()
				if err != nil {
					return
				}
				_ = c.Close()
			}
		}()
		port := running.Addr().(*net.TCPAddr).Port
		earlier := exec.Command("sleep", "60")
		require.NoError(t, earlier.Start())
		t.Cleanup(func() { _ = earlier.Process.Kill(); _ = earlier.Wait() })
		pidfile := filepath.Join(dir, "stripe-mock-"+strconv.Itoa(port)+".pid")
		require.NoError(t, os.WriteFile(pidfile, []byte(strconv.Itoa(earlier.Process.Pid)+"\n"), 0o644))

		out, err := withStripeMock(t, port, dir, "true")
		require.NoError(t, err, out)
		require.NotContains(t, out, "starting stripe-mock")
		require.True(t, answers(port), "the running stripe-mock still answers")
		require.NoError(t, earlier.Process.Signal(syscall.Signal(0)), "the earlier stripe-mock process is alive")
		b, err := os.ReadFile(pidfile)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(earlier.Process.Pid), strings.TrimSpace(string(b)))
	})
}

// withMailpit runs argv with a fake Mailpit (a Python TCP server on its SMTP port: the real
// one is a long build) on port, and env; it returns the output.
func withMailpit(t *testing.T, port int, dir string, env []string, argv ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3 for a fake Mailpit")
	}
	fake := filepath.Join(dir, "fake-mailpit")
	// --smtp HOST:PORT --listen HOST:PORT
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\naddr=\"$2\"\nexec python3 -m http.server --bind \"${addr%:*}\" \"${addr##*:}\"\n"), 0o755))
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(dir, "mailpit-"+strconv.Itoa(port)+".pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), "SMTP_URL="), env...)
	cmd.Env = append(cmd.Env, "MAILPIT_SMTP_PORT="+strconv.Itoa(port), "MAILPIT_UI_PORT=18025", "MAILPIT_BIN="+fake, "MAILPIT_DIR="+dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// `make run` without SMTP_URL sends its emails to a Mailpit through `scripts/services.sh
// with-mailpit`.
func TestServicesWithMailpit(t *testing.T) {
	t.Parallel()

	t.Run("gives the command a Mailpit, prints its inbox, and stops it", func(t *testing.T) {
		port, dir := freePort(t), t.TempDir()
		out, err := withMailpit(t, port, dir, nil, "bash", servicesScript, "with-mailpit", "sh", "-c", `echo "smtp=$SMTP_URL"`)
		require.NoError(t, err, out)
		require.Contains(t, out, "smtp=smtp://127.0.0.1:"+strconv.Itoa(port), "the command is given the Mailpit")
		require.Contains(t, out, "read them at http://127.0.0.1:18025", "the inbox is printed")
		require.Eventually(t, func() bool { return !answers(port) }, 10*time.Second, 50*time.Millisecond,
			"the Mailpit it started still answers:\n%s", out)
		require.NoFileExists(t, filepath.Join(dir, "mailpit-"+strconv.Itoa(port)+".pid"))
	})

	t.Run("starts nothing when SMTP_URL is set", func(t *testing.T) {
		port, dir := freePort(t), t.TempDir()
		out, err := withMailpit(t, port, dir, []string{"SMTP_URL=smtp://mail.example.com:587"},
			"bash", servicesScript, "with-mailpit", "sh", "-c", `echo "smtp=$SMTP_URL"; exit 4`)
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr, out)
		require.Equal(t, 4, exitErr.ExitCode(), "the command's status")
		require.Contains(t, out, "smtp=smtp://mail.example.com:587")
		require.NotContains(t, out, "Mailpit")
		require.NoFileExists(t, filepath.Join(dir, "mailpit-"+strconv.Itoa(port)+".pid"))
	})

	t.Run("composes with with-stripe-mock, and stops both", func(t *testing.T) {
		port, stripePort, dir := freePort(t), freePort(t), t.TempDir()
		fakeStripe := filepath.Join(dir, "fake-stripe-mock")
		require.NoError(t, os.WriteFile(fakeStripe, []byte("#!/bin/sh\naddr=\"$2\"\nexec python3 -m http.server --bind \"${addr%:*}\" \"${addr##*:}\"\n"), 0o755))
		out, err := withMailpit(t, port, dir,
			[]string{"STRIPE_MOCK_PORT=" + strconv.Itoa(stripePort), "STRIPE_MOCK_BIN=" + fakeStripe, "STRIPE_MOCK_DIR=" + dir},
			"bash", servicesScript, "with-mailpit", "bash", servicesScript, "with-stripe-mock",
			"sh", "-c", `echo "smtp=$SMTP_URL base=$STRIPE_API_BASE"`)
		require.NoError(t, err, out)
		require.Contains(t, out, "smtp=smtp://127.0.0.1:"+strconv.Itoa(port)+" base=http://127.0.0.1:"+strconv.Itoa(stripePort))
		require.Eventually(t, func() bool { return !answers(port) && !answers(stripePort) }, 10*time.Second, 50*time.Millisecond, out)
	})
}
