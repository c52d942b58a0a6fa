// Package app is the wiring of the shopgraph server: it turns the configuration into pools,
// services and the HTTP handler (Open, App.Handler), runs the server until its context ends
// (Serve), and implements the subcommands of the shopgraph binary (Run). The main package only
// turns the process (arguments, environment, signals) into a call of Run, and tests build the
// same App that `shopgraph serve` does.
package app
