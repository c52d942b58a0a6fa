package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/inventory"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/requestlog"
)

// userErrors splits a service error: codes that an end user can act on (those in the ErrorCode
// enum) become payload userErrors; anything else is returned as a top-level error. It never
// returns a nil slice, because userErrors is non-null in the schema.
func userErrors(err error) ([]*model.UserError, error) {
	if err == nil {
		return []*model.UserError{}, nil
	}
	var list apperr.List
	if !errors.As(err, &list) {
		e := apperr.As(err)
		if e == nil {
			return nil, err
		}
		list = apperr.List{e}
	}
	out := make([]*model.UserError, 0, len(list))
	for _, e := range list {
		code := model.ErrorCode(e.Code)
		if !code.IsValid() {
			return nil, err
		}
		ue := &model.UserError{Field: e.Field, Message: e.Message, Code: code}
		var short *inventory.OutOfStockError
		if errors.As(e, &short) {
			ue.VariantID = ptr(globalID(typeVariant, short.VariantID))
			if code == model.ErrorCodeOutOfStock {
				ue.AvailableQuantity = &short.Available
			}
		}
		out = append(out, ue)
	}
	return out, nil
}

// ErrorPresenter turns resolver errors into GraphQL errors: an *apperr.Error keeps its safe
// message and gets extensions.code; anything else is logged once with the request id and the
// path, and reaches the client only as INTERNAL with that request id.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Err == nil {
			// Parse and validation errors from gqlgen itself: already safe and coded.
			return gqlErr
		}
		presented := graphql.DefaultErrorPresenter(ctx, err)
		if e := apperr.As(err); e != nil && e.Code != apperr.Internal {
			presented.Message = e.Message
			presented.Extensions = map[string]any{"code": string(e.Code)}
			if len(e.Field) > 0 {
				presented.Extensions["field"] = e.Field
			}
			if e.RetryAfterSeconds > 0 {
				presented.Extensions["retryAfterSeconds"] = e.RetryAfterSeconds
			}
			if e.Code == apperr.Unavailable {
				// An outage (PostgreSQL restarting), not a fault of ours to report as INTERNAL.
				// A read may always be sent again; a mutation only when it is known to have
				// changed nothing: the failing statement was not applied and no earlier one of
				// the operation may have written (a cart line added, then its read failing),
				// or the client would apply it twice.
				retryable := !isMutation(ctx) || (e.NotApplied && !postgres.Wrote(ctx))
				presented.Extensions["retryable"] = retryable
				if !retryable {
					presented.Message = "The service was interrupted and the change may or may not have been made: check before sending it again."
				}
				log.WarnContext(ctx, "service unavailable", "err", err, "path", presented.Path.String(), "request_id", requestlog.RequestID(ctx))
			}
			return presented
		}
		if errors.Is(err, context.DeadlineExceeded) {
			presented.Message = "The request took too long and was stopped."
			presented.Extensions = map[string]any{"code": string(apperr.Timeout)}
			return presented
		}
		requestID := requestlog.RequestID(ctx)
		log.ErrorContext(ctx, "internal error", "err", err, "path", presented.Path.String(), "request_id", requestID)
		presented.Message = "Internal server error. Quote the request id when reporting it."
		presented.Extensions = map[string]any{"code": string(apperr.Internal), "requestId": requestID}
		return presented
	}
}

// isMutation reports whether the error belongs to a mutation.
func isMutation(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	op := graphql.GetOperationContext(ctx).Operation
	return op != nil && op.Operation == ast.Mutation
}

// RecoverFunc turns a panic in a resolver into an INTERNAL error (logged by the presenter)
// instead of a dropped connection.
func RecoverFunc(_ context.Context, v any) error {
	return fmt.Errorf("panic in resolver: %v", v)
}

// dedupeErrors keeps one of several identical errors of a response (same message and code),
// as the fields of a failing subscription's final event produce.
func dedupeErrors(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || len(resp.Errors) < 2 {
		return resp
	}
	// Only a subscription's final event repeats one error on several fields; elsewhere equal
	// errors on different paths (one per forbidden field) are all meaningful.
	if !graphql.HasOperationContext(ctx) {
		return resp
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Subscription {
		return resp
	}
	seen := map[string]bool{}
	kept := resp.Errors[:0]
	for _, e := range resp.Errors {
		key := e.Message + "\x00" + fmt.Sprint(e.Extensions["code"])
		if !seen[key] {
			seen[key] = true
			kept = append(kept, e)
		}
	}
	resp.Errors = kept
	return resp
}
