// Command docgen writes the generated API documentation from the schema (schema/*.graphqls)
// and the documented operations (docs/operations): the reference in docs/reference and the
// Postman collection and environment in docs/postman. `make generate` runs it; run it from the
// repository's root. With -release it records the current schema as the released one instead
// (`make schema-release`).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shopgraph/shopgraph/docs/operations"
	"github.com/shopgraph/shopgraph/internal/apischema"
	"github.com/shopgraph/shopgraph/internal/docgen"
)

func main() {
	root := flag.String("root", ".", "the repository's root")
	release := flag.Bool("release", false, "write the current schema as the released one (docs/schema/released.graphql) and stop")
	flag.Parse()
	do := run
	if *release {
		do = snapshot
	}
	if err := do(*root); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	schema, err := apischema.LoadDir(filepath.Join(root, "schema"))
	if err != nil {
		return err
	}
	set, err := operations.Embedded()
	if err != nil {
		return err
	}
	// The Postman collection is only as good as the operations: refuse to write it from ones
	// the schema no longer accepts.
	if err := set.Validate(schema); err != nil {
		return err
	}
	refDir := filepath.Join(root, "docs", "reference")
	if err := replaceDir(refDir, ".md", docgen.Reference(schema, set)); err != nil {
		return err
	}
	collection, environment, err := docgen.Postman(schema, set)
	if err != nil {
		return err
	}
	return replaceDir(filepath.Join(root, "docs", "postman"), ".json", map[string]string{
		"shopgraph.postman_collection.json":  string(collection),
		"shopgraph.postman_environment.json": string(environment),
	})
}

// snapshot records the current schema as the last released one, which the breaking-change
// check (internal/apischema) compares against.
func snapshot(root string) error {
	schema, err := apischema.LoadDir(filepath.Join(root, "schema"))
	if err != nil {
		return err
	}
	text := "# The last released schema: the baseline of the breaking-change check (internal/apischema).\n" +
		"# Written by `make schema-release` when a release is cut; never edited by hand (docs/schema/README.md).\n\n" +
		apischema.Print(schema)
	dir := filepath.Join(root, "docs", "schema")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "released.graphql"), []byte(text), 0o644)
}

// replaceDir writes files into dir and removes the other files ending in ext there, so that a
// type removed from the schema loses its page.
func replaceDir(dir, ext string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range old {
		if _, keep := files[e.Name()]; !keep && strings.HasSuffix(e.Name(), ext) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if cur, err := os.ReadFile(p); err == nil && string(cur) == content {
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
