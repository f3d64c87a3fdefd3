package gitlabdeploy

import (
	"strconv"
	"strings"
	"time"
)

// Kept is what the reporter keeps of a commit's deployment (status.Keeper):
// its id and the begin of the attempt it was made for, in the agent's
// clock, which GitLab's deployment has no room for. With the attempt kept,
// a report is told a rollback's, a step of that attempt, or an earlier
// attempt's late one (deployment.Again, deployment.Earlier) by the agent's
// own times, whatever the clocks of the replicas and the forge.
type Kept struct {
	ID int64
	// Attempt is zero when unknown: a reference kept before the reporter
	// named it, or a deployment of reports that name no attempt.
	Attempt time.Time
}

// String is the reference kept: "<id>@<attempt, RFC 3339 with
// nanoseconds>", or the bare id when the attempt is unknown.
func (k Kept) String() string {
	id := strconv.FormatInt(k.ID, 10)
	if k.Attempt.IsZero() {
		return id
	}
	return id + "@" + k.Attempt.UTC().Format(time.RFC3339Nano)
}

// ParseKept reads a reference String wrote; a bare id (kept before the
// attempt was) has its attempt unknown, and one that does not parse names
// no deployment.
func ParseKept(ref string) Kept {
	idText, at, named := strings.Cut(ref, "@")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return Kept{}
	}
	k := Kept{ID: id}
	if named {
		if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
			k.Attempt = t
		}
	}
	return k
}
