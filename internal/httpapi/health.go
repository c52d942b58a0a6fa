package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// ReadyFunc checks the dependencies; each failing one is named in the map.
type ReadyFunc func(ctx context.Context) map[string]error

func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func readyz(ready ReadyFunc, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks := map[string]string{}
		status := http.StatusOK
		if ready != nil {
			for name, err := range ready(ctx) {
				if err != nil {
					log.WarnContext(ctx, "readiness check failed", "dependency", name, "err", err)
					checks[name] = "unavailable"
					status = http.StatusServiceUnavailable
				} else {
					checks[name] = "ok"
				}
			}
		}
		body := map[string]any{"status": "ok", "checks": checks}
		if status != http.StatusOK {
			body["status"] = "unavailable"
		}
		writeJSON(w, status, body)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeGraphQLError answers with a GraphQL-shaped error before any operation runs; extra is
// more extensions, as name, value pairs.
func writeGraphQLError(w http.ResponseWriter, status int, code, message string, extra ...any) {
	extensions := map[string]any{"code": code}
	for i := 0; i+1 < len(extra); i += 2 {
		extensions[extra[i].(string)] = extra[i+1]
	}
	writeJSON(w, status, map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": extensions}},
	})
}
