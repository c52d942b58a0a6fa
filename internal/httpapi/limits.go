package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/httpapi/mediatype"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
)

// RequestBudget is how many requests per minute one client may send to /graphql.
type RequestBudget struct {
	Buckets ratelimit.Buckets
	// PerIP applies to anonymous requests, PerUser to signed-in ones; 0 turns one off.
	PerIP, PerUser int
}

// limitBody refuses bodies over max bytes (multipart/form-data ones, file uploads, over
// maxUpload when that is larger): gqlgen would read any size.
func limitBody(max, maxUpload int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		max := max
		if maxUpload > max && mediatype.IsMultipartBody(r) {
			max = maxUpload
		}
		if max > 0 {
			if r.ContentLength > max {
				writeGraphQLError(w, http.StatusRequestEntityTooLarge, string(apperr.RequestTooLarge),
					"The request body is larger than "+strconv.FormatInt(max, 10)+" bytes.")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}

// limitRate spends one token of the client's budget per request: the signed-in user's, or
// the client IP's. An empty bucket answers 429 with Retry-After and a RATE_LIMITED error. A
// failing rate-limit store lets requests through (availability over strictness).
func limitRate(b RequestBudget, next http.Handler) http.Handler {
	if b.Buckets == nil || (b.PerIP <= 0 && b.PerUser <= 0) {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, n := "ip:"+auth.RequestFrom(r.Context()).ClientIP, b.PerIP
		if v, ok := auth.ViewerFrom(r.Context()); ok {
			key, n = "user:"+strconv.FormatInt(v.UserID, 10), b.PerUser
		}
		if n > 0 {
			allowed, retry, err := b.Buckets.Take(r.Context(), "api:"+key, n, time.Minute)
			if err == nil && !allowed {
				secs := ratelimit.RetrySeconds(retry)
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				writeGraphQLError(w, http.StatusTooManyRequests, string(apperr.RateLimited),
					"Too many requests; retry after "+strconv.Itoa(secs)+" seconds.", "retryAfterSeconds", secs)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
