// Package ids defines the distinct identifier types shared by every Tandem package,
// so that an account ID can never be passed where a ticket ID is expected.
package ids

// Account identifies a tenant.
type Account int64

// User identifies a user within an account (user IDs are unique across the server).
type User int64

// Org identifies an organization.
type Org int64

// Group identifies an agent group.
type Group int64

// Ticket is a ticket's number within its account (#1, #2, ...), the ID clients see.
type Ticket int64

// Comment identifies a ticket comment.
type Comment int64

// Audit identifies a ticket audit.
type Audit int64
