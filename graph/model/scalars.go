package model

import (
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// The Int64 and DateTime scalars are gqlgen's, but a value that does not parse is the client's
// mistake: gqlgen's plain errors would reach the error presenter as INTERNAL, so they become
// BAD_USER_INPUT here.

// MarshalInt64 writes an Int64 as a JSON number.
func MarshalInt64(v int64) graphql.Marshaler { return graphql.MarshalInt64(v) }

// UnmarshalInt64 reads a whole number (a JSON number or a string of digits).
func UnmarshalInt64(v any) (int64, error) {
	n, err := graphql.UnmarshalInt64(v)
	if err != nil {
		return 0, apperr.Wrap(err, apperr.BadUserInput, fmt.Sprintf("Int64 must be a whole number, not %s.", describe(v)))
	}
	return n, nil
}

// MarshalDateTime writes an RFC 3339 time.
func MarshalDateTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalDateTime reads an RFC 3339 time.
func UnmarshalDateTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, apperr.Wrap(err, apperr.BadUserInput, fmt.Sprintf("DateTime must be an RFC 3339 time, not %s.", describe(v)))
	}
	return t, nil
}

// describe shows a bad value briefly, quoted when it was a string.
func describe(v any) string {
	s := fmt.Sprintf("%v", v)
	if _, ok := v.(string); ok {
		s = fmt.Sprintf("%q", v)
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
