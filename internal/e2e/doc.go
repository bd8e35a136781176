// Package e2e runs real inv processes against one SQLite file at a time, to
// check what unit tests inside one process cannot: that concurrent writers in
// separate processes lose no update, never oversell, wait for each other
// instead of failing with "database is locked", and that an import killed at
// any moment leaves nothing half-applied. It holds tests only.
package e2e
