// Package migrations holds shopgraph's versioned SQL migrations (goose format), embedded so the
// binary can migrate a database with no files beside it. sqlc reads the same folder as its schema.
package migrations

import "embed"

// FS is every migration file, in version order by name.
//
//go:embed *.sql
var FS embed.FS
