package version

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/syncgate/syncgate/status"
)

// Group, version and resource of the Version CRD.
var (
	GroupVersion = schema.GroupVersion{Group: "syncgate.dev", Version: "v1alpha1"}
	Resource     = GroupVersion.WithResource("versions")
	Kind         = GroupVersion.WithKind("Version")
)

// Name is the name of the one Version object in each managed namespace.
const Name = "syncgate"

// Condition types on a Version.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
	// ConditionReporting is False while a report sink refuses delivery for a
	// reason retries cannot fix (bad credentials, unknown repository).
	ConditionReporting = "Reporting"
)

// Version records what syncgate applied and deployed in one namespace.
//
// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ver
// +kubebuilder:printcolumn:name="Applied",type=string,JSONPath=`.status.appliedShort`
// +kubebuilder:printcolumn:name="Deployed",type=string,JSONPath=`.status.deployedShort`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Version struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VersionSpec   `json:"spec,omitempty"`
	Status VersionStatus `json:"status,omitempty"`
}

// VersionSpec says where the namespace's configuration comes from. It is
// written by syncgate for people reading the object; nothing reads it back.
type VersionSpec struct {
	// Cluster is the CLUSTER_NAME that renders this namespace.
	Cluster string `json:"cluster,omitempty"`
	// Repo is the config repo URL, without credentials.
	Repo string `json:"repo,omitempty"`
	// Branch is the followed branch.
	Branch string `json:"branch,omitempty"`
}

// VersionStatus is the record of commits in this namespace.
type VersionStatus struct {
	// Head is the branch head the syncer last took up in this namespace:
	// each commit is tried once per time it becomes the head.
	Head string `json:"head,omitempty"`
	// Applied is the full sha of the commit last applied to the namespace.
	Applied string `json:"applied,omitempty"`
	// AppliedShort is the 7-character form of Applied, for printer columns.
	AppliedShort string       `json:"appliedShort,omitempty"`
	AppliedAt    *metav1.Time `json:"appliedAt,omitempty"`
	// Deployed is the full sha of the newest commit whose objects were all Ready.
	Deployed      string       `json:"deployed,omitempty"`
	DeployedShort string       `json:"deployedShort,omitempty"`
	DeployedAt    *metav1.Time `json:"deployedAt,omitempty"`

	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// History holds the most recent commits, newest first, bounded.
	History []Commit `json:"history,omitempty"`
	// Inventory lists the objects syncgate applied, for pruning and for
	// skipping objects whose desired state did not change. It is stored as
	// packedInventory; this field is read from Versions written before.
	Inventory []InventoryEntry `json:"inventory,omitempty"`
	// Owed lists the reports recorded but not yet delivered to a sink.
	Owed []OwedReport `json:"owed,omitempty"`
	// FailedBefore lists the commits that failed (on their own or carried
	// by one that failed) whose History entries were trimmed, newest last,
	// at most MaxFailedBefore: a verdict outlives its entry, so an older
	// failed commit is not later taken for carried by a deployed one.
	FailedBefore []string `json:"failedBefore,omitempty"`
	// Restoring is the applied commit while it is to be applied again to
	// undo what a commit since wrote part of before it was refused or
	// dropped from the branch; its own verdict stands.
	// +optional
	Restoring string `json:"restoring,omitempty"`
	// UnsettledSince is when objects were first applied again outside a
	// commit's attempt (a drift correction undoing a hand edit, a restore)
	// with no rollout wait over every object ended deployed since: until
	// one does, no commit is taken for deployed without waiting for every
	// object, whichever replica leads.
	// +optional
	UnsettledSince *metav1.Time `json:"unsettledSince,omitempty"`

	// The fields below hold the stored form only (codec.go): syncgate
	// reads them back into the fields above, so in Go they are empty.

	// PackedInventory is how the inventory is stored: its JSON, gzipped.
	// +optional
	PackedInventory []byte `json:"packedInventory,omitempty"`
	// DeploymentNames lists once each Deployment that history entries and
	// owed reports name; they name theirs by position in it (deploymentRefs).
	// +optional
	DeploymentNames []string `json:"deploymentNames,omitempty"`
}

// Commit is the fate of one commit in this namespace.
type Commit struct {
	SHA   string       `json:"sha"`
	State status.State `json:"state"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// CarriedBy names the newer commit that superseded this one.
	// +optional
	CarriedBy string `json:"carriedBy,omitempty"`
	// Outcome is the carrier's terminal state, for superseded commits.
	// +optional
	Outcome    status.State `json:"outcome,omitempty"`
	FetchedAt  *metav1.Time `json:"fetchedAt,omitempty"`
	AppliedAt  *metav1.Time `json:"appliedAt,omitempty"`
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// RestoredAt is when a restore (VersionStatus.Restoring) last sent the
	// commit's objects again while its rollout had no outcome: that rollout
	// began again then, and its health timeout counts from then.
	// +optional
	RestoredAt *metav1.Time `json:"restoredAt,omitempty"`
	// Ready and Total count the objects Current out of those applied.
	// +optional
	Ready int32 `json:"ready,omitempty"`
	// +optional
	Total int32 `json:"total,omitempty"`
	// Deployments names the Deployments the commit rendered. It is stored
	// as deploymentRefs; this field is read from Versions written before.
	// +optional
	Deployments []string `json:"deployments,omitempty"`
	// DeploymentRefs is how Deployments is stored: positions in the
	// status's deploymentNames, consecutive ones as a run "first-last"
	// ("0-999,1002"). Read back into Deployments, so empty in Go.
	// +optional
	DeploymentRefs DeploymentRefs `json:"deploymentRefs,omitempty"`
	// Origins are the application commits the commit deploys, as its
	// Syncgate-Origin trailers name them (repo@sha).
	// +optional
	Origins []string `json:"origins,omitempty"`
	// SinkRefs are what sinks keep of the commit, by sink, to find what
	// they made of it again without searching: the id of its GitLab
	// deployment.
	// +optional
	SinkRefs map[string]string `json:"sinkRefs,omitempty"`
}

// DeploymentRefs are positions in VersionStatus.DeploymentNames.
//
// +kubebuilder:validation:Pattern=`^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`
type DeploymentRefs string

// InventoryEntry is one object syncgate applied.
type InventoryEntry struct {
	// +optional
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Hash of the desired state last applied.
	// +optional
	Hash string `json:"hash,omitempty"`
	// Orphan marks an object the config repo no longer has that syncgate
	// could not delete yet; every apply tries again.
	// +optional
	Orphan bool `json:"orphan,omitempty"`
}

// OwedReport is one transition recorded for a sink and not yet delivered.
type OwedReport struct {
	Sink string `json:"sink"`
	// Cluster is the CLUSTER_NAME the report speaks for.
	// +optional
	Cluster string       `json:"cluster,omitempty"`
	SHA     string       `json:"sha"`
	State   status.State `json:"state"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	CarriedBy string `json:"carriedBy,omitempty"`
	// +optional
	Outcome status.State `json:"outcome,omitempty"`
	// BegunAt is when the attempt the report is of began (its commit's
	// fetchedAt then): the deployment sinks tell a rollback's report
	// from a replay of an earlier rollout's by it.
	// +optional
	BegunAt    *metav1.Time `json:"begunAt,omitempty"`
	AppliedAt  *metav1.Time `json:"appliedAt,omitempty"`
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// +optional
	Deployments []string `json:"deployments,omitempty"`
	// +optional
	Ready int32 `json:"ready,omitempty"`
	// +optional
	Total int32 `json:"total,omitempty"`
	// DeploymentRefs is how Deployments is stored, as in a history entry.
	// Read back into Deployments, so empty in Go.
	// +optional
	DeploymentRefs DeploymentRefs `json:"deploymentRefs,omitempty"`
	// Origins are the application commits the report also goes to.
	// +optional
	Origins []string `json:"origins,omitempty"`
	// OvertakenBy names the newer commit whose own success the sink was
	// shown for the same cluster while this one was owed: posted late,
	// this success must leave the environment to it.
	// +optional
	OvertakenBy string `json:"overtakenBy,omitempty"`
	// OvertakerOrigins are the origins of OvertakenBy's report.
	// +optional
	OvertakerOrigins []string `json:"overtakerOrigins,omitempty"`
	// Ref is what the sink kept of the commit when it delivered an
	// earlier report of it (the history entry's SinkRefs).
	// +optional
	Ref string `json:"ref,omitempty"`
	// AsHistory says the report says what the history entry of its sha
	// says, so reason, carrier, outcome, times, counts and Deployments are
	// not stored again. Read back from that entry, so false in Go.
	// +optional
	AsHistory bool `json:"asHistory,omitempty"`
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// +optional
	LastError string `json:"lastError,omitempty"`
	// Permanent is set when the sink refused the report for a reason retries
	// cannot fix; the report stays for people to see but is not retried.
	// +optional
	Permanent bool `json:"permanent,omitempty"`
}

// VersionList is a list of Versions.
//
// +kubebuilder:object:root=true
type VersionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Version `json:"items"`
}
