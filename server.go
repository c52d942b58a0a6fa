// Command shopgraph is the shopgraph GraphQL commerce server and its admin commands.
//
//	shopgraph [serve]                  run the server (the default)
//	shopgraph migrate                  apply database migrations and exit
//	shopgraph admin create --email E   create or promote an admin; the password is read from
//	                                   SHOPGRAPH_ADMIN_PASSWORD or the first line of stdin
//	shopgraph seed --products N        add N generated demo products (and the demo categories
//	                                   and vendors when missing)
//	shopgraph stripe-event TYPE --order ID [--url URL]
//	                                   send a correctly signed Stripe event about an order's
//	                                   payment to a running server's webhook (local testing)
//	shopgraph help [COMMAND]           the commands, or one command's usage
//
// Every command answers -h or --help with its usage, without reading the configuration or
// connecting to anything. Configuration comes from the environment; see README.md. The
// commands and the wiring live in internal/app; this package only hands the process's
// arguments, environment and signals to app.Run and turns its error into the exit code.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/shopgraph/shopgraph/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "shopgraph:", err)
		os.Exit(1)
	}
}
