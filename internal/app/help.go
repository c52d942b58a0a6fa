// This file holds the help: the command table, and the usage text of each command. Help is
// answered before the configuration is loaded, so it must not need anything else.

package app

import (
	"flag"
	"fmt"
	"strings"

	"github.com/shopgraph/shopgraph/internal/payment"
)

// commands are the subcommands, in the order the help lists them.
var commands = []struct{ name, args, short, summary, settings string }{
	{"serve", "", "run the HTTP server (the default)", "Run the HTTP server until SIGINT or SIGTERM (the default command). Outside production it\n" +
		"applies the migrations first, and in development it creates the dev admin and seeds an\n" +
		"empty catalog, printing their credentials.",
		"APP_ENV, LISTEN_HOST, PORT, DATABASE_URL, DB_MAX_CONNS, REDIS_URL, JWT_SECRET, STRIPE_*, ..."},
	{"migrate", "", "apply the database migrations and exit", "Apply the database migrations to DATABASE_URL and exit.", "DATABASE_URL"},
	{"admin create", "--email EMAIL", "create or promote an admin", "Create an admin, or promote an existing account to admin. The password is read from\n" +
		"SHOPGRAPH_ADMIN_PASSWORD, or else from the first line of stdin.",
		"DATABASE_URL, SHOPGRAPH_ADMIN_PASSWORD"},
	{"seed", "[--products N]", "add generated demo products", "Add N generated demo products, and the demo categories and vendors when missing\n" +
		"(benchmarks).", "DATABASE_URL"},
	{"stripe-event", "TYPE --order ID [--url URL] [--amount N]", "send a signed Stripe event to a running server", "Send a correctly signed Stripe event about an order's payment to a running server's\n" +
		"webhook, playing Stripe's part in local testing. TYPE is one of:\n  " + strings.Join(payment.EventTypes, ", "),
		"DATABASE_URL (to find the order's payment intent), STRIPE_WEBHOOK_SECRET, PORT"},
	{"paypal-event", "TYPE --order ID [--url URL] [--amount N]", "send a PayPal webhook to a running server", "Send a PayPal webhook event about an order's PayPal payment to a running server's\n" +
		"webhook, signed as the local PayPal stand-in signs (make run), playing PayPal's part in local\n" +
		"testing. TYPE is one of:\n  " + strings.Join(payment.PayPalEventTypes, ", "),
		"DATABASE_URL (to find the order's PayPal order), PAYPAL_WEBHOOK_ID, PORT"},
	{"help", "[COMMAND]", "list the commands, or show one's usage", "List the commands, or show one command's usage.", ""},
}

// settingsPointer ends every help text: the settings are environment variables, documented
// in one place.
const settingsPointer = "Settings are environment variables; README.md's \"Configuration\" section lists each one\n" +
	"with its default (APP_ENV, LISTEN_HOST, PORT, DATABASE_URL, REDIS_URL, ...).\n"

// helpText is the help that args ask for: `help [COMMAND]`, `-h`/`--help` alone, or a known
// command with -h, -help or --help among its arguments.
func helpText(args []string) (string, bool) {
	if len(args) == 0 {
		return "", false
	}
	if args[0] == "help" || isHelpFlag(args[0]) {
		if text, ok := commandHelp(args[1:]); ok {
			return text, true
		}
		return topHelp(), true
	}
	for _, a := range args[1:] {
		if a == "--" {
			break
		}
		if isHelpFlag(a) {
			return commandHelp(args)
		}
	}
	return "", false
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

func topHelp() string {
	var b strings.Builder
	b.WriteString("shopgraph: the shopgraph GraphQL commerce server and its admin commands.\n\n")
	b.WriteString("Usage: shopgraph [COMMAND] [ARGUMENTS]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-14s %s\n", c.name, c.short)
	}
	b.WriteString("\nWithout a command, shopgraph serves. `shopgraph COMMAND --help` shows a command's usage.\n\n")
	b.WriteString(settingsPointer)
	return b.String()
}

// commandHelp is the usage of the command that args name ("admin create" is two words).
func commandHelp(args []string) (string, bool) {
	if len(args) == 0 {
		return "", false
	}
	name := args[0]
	if name == "admin" {
		if len(args) < 2 || args[1] != "create" {
			return "usage: shopgraph admin create --email EMAIL\n\n`admin` has one subcommand, create; `shopgraph admin create --help` describes it.\n\n" + settingsPointer, true
		}
		name = "admin create"
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "usage: shopgraph %s", c.name)
		if c.args != "" {
			fmt.Fprintf(&b, " %s", c.args)
		}
		fmt.Fprintf(&b, "\n\n%s\n", c.summary)
		if fs := commandFlags(c.name); fs != nil {
			b.WriteString("\nFlags:\n")
			fs.SetOutput(&b)
			fs.PrintDefaults()
		}
		if c.settings != "" {
			fmt.Fprintf(&b, "\nSettings it reads: %s\n", c.settings)
		}
		b.WriteString("\n" + settingsPointer)
		return b.String(), true
	}
	return "", false
}

// commandFlags is the flag set of a command that has flags, as the command itself parses them.
func commandFlags(name string) *flag.FlagSet {
	switch name {
	case "admin create":
		fs, _ := adminCreateFlags()
		return fs
	case "seed":
		fs, _ := seedFlags()
		return fs
	case "stripe-event":
		fs, _ := stripeEventFlags()
		return fs
	case "paypal-event":
		fs, _ := paypalEventFlags()
		return fs
	}
	return nil
}

// usageError is a command's misuse, with its usage.
func usageError(name, format string, a ...any) error {
	text, _ := commandHelp(strings.Fields(name))
	return fmt.Errorf("%s %s\n%s", name, fmt.Sprintf(format, a...), text)
}
