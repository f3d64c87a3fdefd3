// Package lease elects a leader through a coordination/v1 Lease, with the
// semantics of client-go's leader election for what syncgate uses: a
// candidate takes a Lease that is free or whose holder has not renewed it
// for its duration (timed by this candidate's clock from when it saw the
// Lease last change, so clocks need not agree), renews it every retry
// period, stops leading when it cannot renew within the renew deadline or
// sees another holder, and gives it up once its work has returned, so a
// successor takes over at once. Every write names the resourceVersion read.
//
// Unlike client-go's, an Elector waits for the work before it gives the
// Lease up or returns, and keeps renewing while the work stops on shutdown.
// Leases are read and written over the dynamic client (Client), so the
// agent links no clientset.
package lease
