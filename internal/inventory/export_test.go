package inventory

import "context"

// SetBeforeChunk sets a function run before each chunk of an apply (tests).
func (s *ImportService) SetBeforeChunk(fn func(ctx context.Context, processed int)) {
	s.beforeChunk = fn
}
