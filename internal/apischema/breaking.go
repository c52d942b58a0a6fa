package apischema

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// Print is the schema as one document, types and directives sorted by name, descriptions kept:
// the form of the released snapshot (docs/schema/released.graphql).
func Print(s *ast.Schema) string {
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(s)
	return b.String()
}

// Change is one difference between two schemas that breaks clients written against the old.
type Change struct {
	// Path names the element: Type, Type.field, Type.field(arg), Input.field, Enum.VALUE.
	Path string
	// Message says what changed.
	Message string
}

func (c Change) String() string { return c.Path + ": " + c.Message }

// Breaking lists what new breaks of old. Removing a type, field, argument, input field or
// enum value, or retyping one (other than making an output non-null or an input nullable),
// breaks unless the old element carried @deprecated. A type has no @deprecated of its own: its
// removal breaks unless every field, argument and input field that used it was deprecated.
// Changing a type's kind, dropping an interface or a union member, and a new required argument
// or input field (non-null without a default), or an optional one made required, always
// break. Additions do not.
func Breaking(old, new *ast.Schema) []Change {
	var out []Change
	add := func(path, format string, args ...any) {
		out = append(out, Change{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	uses := typeUses(old)
	for _, name := range sortedTypes(old) {
		o := old.Types[name]
		n := new.Types[name]
		if n == nil {
			if !allDeprecated(uses[name]) {
				add(name, "%s removed while still used by a field, argument or input field not deprecated", kindWord(o.Kind))
			}
			continue
		}
		if o.Kind != n.Kind {
			add(name, "changed from %s to %s", kindWord(o.Kind), kindWord(n.Kind))
			continue
		}
		switch o.Kind {
		case ast.Object, ast.Interface:
			for _, i := range o.Interfaces {
				if !contains(n.Interfaces, i) {
					add(name, "no longer implements %s", i)
				}
			}
			for _, of := range o.Fields {
				if strings.HasPrefix(of.Name, "__") {
					continue
				}
				path := name + "." + of.Name
				nf := n.Fields.ForName(of.Name)
				deprecated := isDeprecated(of.Directives)
				if nf == nil {
					if !deprecated {
						add(path, "field removed without being deprecated first")
					}
					continue
				}
				if !deprecated && !outputCompatible(of.Type, nf.Type) {
					add(path, "type changed from %s to %s", of.Type, nf.Type)
				}
				for _, oa := range of.Arguments {
					apath := path + "(" + oa.Name + ")"
					na := nf.Arguments.ForName(oa.Name)
					if na == nil {
						if !deprecated && !isDeprecated(oa.Directives) {
							add(apath, "argument removed without being deprecated first")
						}
						continue
					}
					if !deprecated && !isDeprecated(oa.Directives) {
						if msg := inputChange(oa.Type, oa.DefaultValue, na.Type, na.DefaultValue); msg != "" {
							add(apath, "argument %s", msg)
						}
					}
				}
				for _, na := range nf.Arguments {
					if of.Arguments.ForName(na.Name) == nil && required(na.Type, na.DefaultValue) {
						add(path+"("+na.Name+")", "new required argument")
					}
				}
			}
		case ast.Union:
			for _, m := range o.Types {
				if !contains(n.Types, m) {
					add(name, "union member %s removed", m)
				}
			}
		case ast.InputObject:
			for _, of := range o.Fields {
				path := name + "." + of.Name
				nf := n.Fields.ForName(of.Name)
				deprecated := isDeprecated(of.Directives)
				if nf == nil {
					if !deprecated {
						add(path, "input field removed without being deprecated first")
					}
					continue
				}
				if !deprecated {
					if msg := inputChange(of.Type, of.DefaultValue, nf.Type, nf.DefaultValue); msg != "" {
						add(path, "input field %s", msg)
					}
				}
			}
			for _, nf := range n.Fields {
				if o.Fields.ForName(nf.Name) == nil && required(nf.Type, nf.DefaultValue) {
					add(name+"."+nf.Name, "new required input field")
				}
			}
		case ast.Enum:
			for _, ov := range o.EnumValues {
				if n.EnumValues.ForName(ov.Name) == nil && !isDeprecated(ov.Directives) {
					add(name+"."+ov.Name, "enum value removed without being deprecated first")
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// inputChange says how an argument or input field changed in a way that breaks a client, or "".
func inputChange(oldType *ast.Type, oldDef *ast.Value, newType *ast.Type, newDef *ast.Value) string {
	becameRequired := required(newType, newDef) && !required(oldType, oldDef)
	switch {
	case inputCompatible(oldType, newType):
		if becameRequired {
			return "became required"
		}
		return ""
	case newType.NonNull && inputCompatible(oldType, nonNullLess(newType)) && becameRequired:
		return "became required"
	default:
		return fmt.Sprintf("type changed from %s to %s", oldType, newType)
	}
}

// outputCompatible says whether a client reading old can read new: the same type, or one made
// non-null (a value it already handled).
func outputCompatible(old, new *ast.Type) bool {
	if new.NonNull && !old.NonNull {
		return outputCompatible(old, nonNullLess(new))
	}
	if old.NonNull != new.NonNull || (old.Elem == nil) != (new.Elem == nil) {
		return false
	}
	if old.Elem != nil {
		return outputCompatible(old.Elem, new.Elem)
	}
	return old.NamedType == new.NamedType
}

// inputCompatible says whether what a client sends for old is still valid for new: the same
// type, or one made nullable.
func inputCompatible(old, new *ast.Type) bool {
	if old.NonNull && !new.NonNull {
		return inputCompatible(nonNullLess(old), new)
	}
	if old.NonNull != new.NonNull || (old.Elem == nil) != (new.Elem == nil) {
		return false
	}
	if old.Elem != nil {
		return inputCompatible(old.Elem, new.Elem)
	}
	return old.NamedType == new.NamedType
}

func nonNullLess(t *ast.Type) *ast.Type {
	c := *t
	c.NonNull = false
	return &c
}

func required(t *ast.Type, def *ast.Value) bool { return t.NonNull && def == nil }

func isDeprecated(d ast.DirectiveList) bool { return d.ForName("deprecated") != nil }

// typeUses lists, per type name, whether each field, argument or input field naming it is
// deprecated.
func typeUses(s *ast.Schema) map[string][]bool {
	uses := map[string][]bool{}
	for _, d := range s.Types {
		if d.BuiltIn {
			continue
		}
		for _, f := range d.Fields {
			uses[f.Type.Name()] = append(uses[f.Type.Name()], isDeprecated(f.Directives))
			for _, a := range f.Arguments {
				uses[a.Type.Name()] = append(uses[a.Type.Name()], isDeprecated(f.Directives) || isDeprecated(a.Directives))
			}
		}
	}
	return uses
}

// allDeprecated is true when a type had uses and every one was deprecated: clients were told.
func allDeprecated(uses []bool) bool {
	if len(uses) == 0 {
		return false
	}
	for _, d := range uses {
		if !d {
			return false
		}
	}
	return true
}

func sortedTypes(s *ast.Schema) []string {
	var names []string
	for n, d := range s.Types {
		if !d.BuiltIn && !strings.HasPrefix(n, "__") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func kindWord(k ast.DefinitionKind) string {
	return strings.ToLower(strings.ReplaceAll(string(k), "_", " "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
