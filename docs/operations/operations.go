// Package operations holds the documented GraphQL operations of a storefront, a vendor
// dashboard and an admin (storefront/, vendor/, admin/, one operation per file named after
// it) and the fragments they share (fragments/), embedded so that the API tests, the Postman
// collection, GraphiQL's tabs and the reference storefront all run the very documents CI
// validates against the schema: they cannot rot unnoticed.
package operations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

//go:embed storefront/*.graphql vendor/*.graphql admin/*.graphql fragments/*.graphql
var files embed.FS

// Audiences are the folders of operations, in the order the docs present them.
var Audiences = []string{"storefront", "vendor", "admin"}

// Operation is one documented operation.
type Operation struct {
	// Name is the operation's name, which is also its file's name.
	Name string
	// Audience is its folder: storefront, vendor or admin.
	Audience string
	// Path is its file, relative to docs/operations.
	Path string
	// Kind is query, mutation or subscription.
	Kind string
	// Comment is the file's leading comment, without the '#' marks.
	Comment string
	// Source is the file's text.
	Source string
	// Document is Source followed by every fragment it uses (transitively): what a client sends.
	Document string
}

// Fragment is one shared fragment of fragments/.
type Fragment struct {
	// Name is the fragment's name, which is also its file's name.
	Name string
	// Path is its file, relative to docs/operations.
	Path string
	// Source is the file's text.
	Source string
	uses   []string
}

// Set is the operations and fragments of one tree of files.
type Set struct {
	// Operations are every operation, by audience then name.
	Operations []Operation
	// Fragments are every fragment, by name.
	Fragments []Fragment
	byName    map[string]int
}

var embedded = sync.OnceValues(func() (*Set, error) { return Load(files) })

// Embedded is the set compiled into the binary.
func Embedded() (*Set, error) { return embedded() }

// Get returns the operation called name.
func (s *Set) Get(name string) (Operation, bool) {
	i, ok := s.byName[name]
	if !ok {
		return Operation{}, false
	}
	return s.Operations[i], true
}

// Load reads fsys (laid out as docs/operations) and checks each file's shape: one definition
// named after the file, a leading comment, every fragment spread resolvable. It does not look
// at the schema: Validate does.
func Load(fsys fs.FS) (*Set, error) {
	s := &Set{byName: map[string]int{}}
	var problems []string
	frags := map[string]Fragment{}
	fragFiles, err := fs.Glob(fsys, "fragments/*.graphql")
	if err != nil {
		return nil, err
	}
	for _, p := range fragFiles {
		src, name, comment, doc, err := parseFile(fsys, p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if len(doc.Operations) != 0 || len(doc.Fragments) != 1 || doc.Fragments[0].Name != name {
			problems = append(problems, fmt.Sprintf("%s: must hold exactly one fragment, named %s", p, name))
			continue
		}
		if comment == "" {
			problems = append(problems, fmt.Sprintf("%s: no leading # comment saying what the fragment is for", p))
		}
		frags[name] = Fragment{Name: name, Path: p, Source: src, uses: spreads(doc.Fragments[0].SelectionSet)}
	}
	for _, audience := range Audiences {
		opFiles, err := fs.Glob(fsys, audience+"/*.graphql")
		if err != nil {
			return nil, err
		}
		for _, p := range opFiles {
			src, name, comment, doc, err := parseFile(fsys, p)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			if len(doc.Operations) != 1 || len(doc.Fragments) != 0 || doc.Operations[0].Name != name {
				problems = append(problems, fmt.Sprintf("%s: must hold exactly one operation, named %s, and no fragment (fragments/ holds them)", p, name))
				continue
			}
			if !strings.Contains(comment, "Who may run it:") {
				problems = append(problems, fmt.Sprintf("%s: the leading # comment must say what it is for and \"Who may run it:\"", p))
			}
			if _, dup := s.byName[name]; dup {
				problems = append(problems, fmt.Sprintf("%s: another audience already has an operation %s", p, name))
				continue
			}
			needed, missing := closure(spreads(doc.Operations[0].SelectionSet), frags)
			for _, m := range missing {
				problems = append(problems, fmt.Sprintf("%s: fragment %s is not in fragments/", p, m))
			}
			var b strings.Builder
			b.WriteString(src)
			for _, n := range needed {
				b.WriteString("\n")
				b.WriteString(frags[n].Source)
			}
			s.byName[name] = len(s.Operations)
			s.Operations = append(s.Operations, Operation{
				Name: name, Audience: audience, Path: p, Kind: string(doc.Operations[0].Operation),
				Comment: comment, Source: src, Document: b.String(),
			})
		}
	}
	for _, name := range sortedKeys(frags) {
		s.Fragments = append(s.Fragments, frags[name])
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("docs/operations:\n%s", strings.Join(problems, "\n"))
	}
	return s, nil
}

// Validate checks every operation's document against schema (gqlparser's validation, the rules
// the server applies) and that every fragment is used by some operation.
func (s *Set) Validate(schema *ast.Schema) error {
	var problems []string
	used := map[string]bool{}
	for _, op := range s.Operations {
		// The default rules are the spec's, the ones gqlgen's executor applies to every request.
		if _, errs := gqlparser.LoadQueryWithRules(schema, op.Document, nil); len(errs) > 0 {
			for _, e := range errs {
				problems = append(problems, fmt.Sprintf("%s: %s", op.Path, e.Message))
			}
		}
		for _, f := range s.Fragments {
			if strings.Contains(op.Document, "fragment "+f.Name+" on ") {
				used[f.Name] = true
			}
		}
	}
	for _, f := range s.Fragments {
		if !used[f.Name] {
			problems = append(problems, fmt.Sprintf("%s: no operation uses fragment %s", f.Path, f.Name))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("docs/operations do not match the schema:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}

func parseFile(fsys fs.FS, p string) (src, name, comment string, doc *ast.QueryDocument, err error) {
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return "", "", "", nil, err
	}
	src = string(b)
	name = strings.TrimSuffix(path.Base(p), ".graphql")
	doc, perr := parser.ParseQuery(&ast.Source{Name: p, Input: src})
	if perr != nil {
		return "", "", "", nil, fmt.Errorf("%s: %s", p, perr.Error())
	}
	return src, name, leadingComment(src), doc, nil
}

// leadingComment is the block of '#' lines the file starts with.
func leadingComment(src string) string {
	var lines []string
	for _, l := range strings.Split(src, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "#") {
			break
		}
		lines = append(lines, strings.TrimSpace(strings.TrimPrefix(l, "#")))
	}
	return strings.Join(lines, "\n")
}

// spreads are the names of the named fragments a selection set spreads, at any depth.
func spreads(set ast.SelectionSet) []string {
	var out []string
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				walk(sel.SelectionSet)
			case *ast.InlineFragment:
				walk(sel.SelectionSet)
			case *ast.FragmentSpread:
				out = append(out, sel.Name)
			}
		}
	}
	walk(set)
	return out
}

// closure is every fragment reachable from names, sorted, and the names not in frags.
func closure(names []string, frags map[string]Fragment) (needed, missing []string) {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		f, ok := frags[n]
		if !ok {
			missing = append(missing, n)
			return
		}
		needed = append(needed, n)
		for _, u := range f.uses {
			visit(u)
		}
	}
	for _, n := range names {
		visit(n)
	}
	sort.Strings(needed)
	return needed, missing
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
