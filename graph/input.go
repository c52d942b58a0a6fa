package graph

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
)

// errBadText refuses text that PostgreSQL cannot store (NUL) or that is not UTF-8, once for
// every argument of every field, before any resolver runs.
var errBadText = errors.New("text arguments must be valid UTF-8 without NUL characters")

func checkText(oc *graphql.OperationContext) error {
	if strings.Contains(oc.RawQuery, `\u0000`) || strings.ContainsRune(oc.RawQuery, 0) {
		return errBadText
	}
	if !validText(oc.Variables) {
		return errBadText
	}
	return nil
}

func validText(v any) bool {
	switch t := v.(type) {
	case string:
		return utf8.ValidString(t) && !strings.ContainsRune(t, 0)
	case map[string]any:
		for k, e := range t {
			if !validText(k) || !validText(e) {
				return false
			}
		}
	case []any:
		for _, e := range t {
			if !validText(e) {
				return false
			}
		}
	}
	return true
}
