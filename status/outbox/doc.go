// Package outbox makes CI reports durable. Record adds the reports a
// transition owes to the Version status in the same write as the transition,
// and a Deliverer works them off per sink with backoff, Retry-After and
// permanent refusals shown in the Reporting condition, clearing each once
// delivered, so a crash or restart loses none.
package outbox
