// Package apischema reads the API contract (schema/*.graphqls) as one gqlparser schema, for the
// tools and tests that check the documents written against it: the documented operations, the
// generated reference, and the breaking-change check against the last released schema.
package apischema

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// LoadDir loads every *.graphqls file of dir, in name order, as one schema.
func LoadDir(dir string) (*ast.Schema, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.graphqls"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("apischema: no *.graphqls in %s", dir)
	}
	sort.Strings(files)
	srcs := make([]*ast.Source, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, &ast.Source{Name: filepath.ToSlash(f), Input: string(b)})
	}
	return Load(srcs...)
}

// Load builds a schema from sources.
func Load(srcs ...*ast.Source) (*ast.Schema, error) {
	s, err := gqlparser.LoadSchema(srcs...)
	if err != nil {
		return nil, fmt.Errorf("apischema: %w", err)
	}
	return s, nil
}
