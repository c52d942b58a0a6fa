package metrics

import "sync"

// maxLabelLen bounds one label value; longer values are reported as "other".
const maxLabelLen = 64

// labelSet admits up to max distinct label values, in the order they are first seen, and maps
// every later or malformed value to "other". Values are admitted forever: a series, once
// exported, must keep its name for rate() to make sense.
type labelSet struct {
	max  int
	mu   sync.RWMutex
	seen map[string]struct{}
}

func newLabelSet(max int) *labelSet {
	return &labelSet{max: max, seen: make(map[string]struct{}, max)}
}

// value returns v when admitted, empty when v is "", and "other" otherwise.
func (s *labelSet) value(v, empty string) string {
	if v == "" {
		return empty
	}
	if !labelSafe(v) {
		return labelOther
	}
	s.mu.RLock()
	_, ok := s.seen[v]
	s.mu.RUnlock()
	if ok {
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[v]; ok {
		return v
	}
	if len(s.seen) >= s.max {
		return labelOther
	}
	s.seen[v] = struct{}{}
	return v
}

// labelSafe reports whether v is short and made of name characters only: GraphQL names, error
// codes and dotted event types all are; anything else is a client's invention.
func labelSafe(v string) bool {
	if len(v) > maxLabelLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c == '_' || c == '.' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}
