package account

import "time"

// SetExternalNow sets social login's clock (tests of state expiry).
func SetExternalNow(e *ExternalAuth, now func() time.Time) { e.now = now }
