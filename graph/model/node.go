// Package model holds GraphQL-only types: gqlgen's generated inputs, payloads and enums, and
// the few hand-written types below that domain types are bound through.
package model

// Node is a value of any GraphQL type implementing the Node interface. It is deliberately
// empty so that domain types (account.User, …) satisfy it without importing GraphQL code; the
// generated executor switches on their concrete types.
type Node interface{}
