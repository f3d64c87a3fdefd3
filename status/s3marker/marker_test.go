package s3marker_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/s3marker"
	"github.com/syncgate/syncgate/testing/s3server"
)

const (
	sha     = "0123456789abcdef0123456789abcdef01234567"
	carrier = "fedcba9876543210fedcba9876543210fedcba98"
)

var (
	applied  = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	finished = applied.Add(42 * time.Second)
)

// recorder passes calls through and remembers each successful put.
type recorder struct {
	s3marker.API
	mu   sync.Mutex
	puts []string
	gets int
}

func (r *recorder) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	out, err := r.API.PutObject(ctx, in, opts...)
	if err == nil {
		r.mu.Lock()
		r.puts = append(r.puts, *in.Key)
		r.mu.Unlock()
	}
	return out, err
}

func (r *recorder) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	r.mu.Lock()
	r.gets++
	r.mu.Unlock()
	return r.API.GetObject(ctx, in, opts...)
}

func startS3(t *testing.T) *s3server.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the S3 server (not in -short mode)")
	}
	srv, err := s3server.Start(context.Background(), s3server.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

// startMarkers starts the S3 server with an empty bucket "markers" and a
// reporter writing to it with o (its Bucket set).
func startMarkers(t *testing.T, o s3marker.Options) (*s3server.Server, *s3marker.Reporter) {
	t.Helper()
	srv := startS3(t)
	require.NoError(t, srv.CreateBucket(context.Background(), "markers"))
	o.Bucket = "markers"
	r, err := s3marker.New(srv.Client(), o)
	require.NoError(t, err)
	return srv, r
}

func objects(t *testing.T, c *s3.Client, bucket string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	got := map[string]string{}
	for _, o := range out.Contents {
		b, err := s3marker.Read(ctx, c, bucket, *o.Key)
		require.NoError(t, err)
		got[*o.Key] = string(b)
	}
	return got
}

func result(fields ...string) string {
	return "{\n" + strings.Join(fields, ",\n") + "\n}\n"
}

// webResult is the _result of sha in namespace web of cluster prod,
// applied and finished when TestMarkersAndResults says; reason is JSON.
func webResult(state, reason, deployments, carriedBy, outcome string) string {
	return result(`  "sha": "`+sha+`"`, `  "state": "`+state+`"`, `  "reason": `+reason,
		`  "cluster": "prod"`, `  "namespace": "web"`, `  "appliedAt": "2026-05-01T10:00:00Z"`, `  "finishedAt": "2026-05-01T10:00:42Z"`,
		deployments, `  "carriedBy": "`+carriedBy+`"`, `  "outcome": "`+outcome+`"`)
}

func TestMarkersAndResults(t *testing.T) {
	srv := startS3(t)
	ctx := context.Background()
	client := srv.Client()
	base := status.Update{Cluster: "prod", Namespace: "web", SHA: sha, AppliedAt: applied, FinishedAt: finished, Deployments: []string{"api", "web"}}
	with := func(f func(*status.Update)) status.Update {
		u := base
		f(&u)
		return u
	}
	deps := `  "deployments": [
    "api",
    "web"
  ]`
	for i, tc := range []struct {
		name   string
		prefix string
		u      status.Update
		want   map[string]string
	}{
		{
			name: "deployed", prefix: "ci/markers",
			u: with(func(u *status.Update) { u.State = status.Deployed }),
			want: map[string]string{
				"ci/markers/prod/web/api/" + sha:               "2026-05-01T10:00:42Z",
				"ci/markers/prod/web/api/0123456":              "2026-05-01T10:00:42Z",
				"ci/markers/prod/web/web/" + sha:               "2026-05-01T10:00:42Z",
				"ci/markers/prod/web/web/0123456":              "2026-05-01T10:00:42Z",
				"ci/markers/prod/web/_result/" + sha + ".json": webResult("deployed", `""`, deps, "", ""),
			},
		},
		{
			name: "deployed without a prefix",
			u:    with(func(u *status.Update) { u.State = status.Deployed; u.Deployments = []string{"web"} }),
			want: map[string]string{
				"prod/web/web/" + sha:               "2026-05-01T10:00:42Z",
				"prod/web/web/0123456":              "2026-05-01T10:00:42Z",
				"prod/web/_result/" + sha + ".json": webResult("deployed", `""`, "  \"deployments\": [\n    \"web\"\n  ]", "", ""),
			},
		},
		{
			name: "failed: a result, no markers", prefix: "/ci/",
			u: with(func(u *status.Update) {
				u.State = status.Failed
				u.Reason = `Deployment web: pod web-1 "CrashLoopBackOff"`
			}),
			want: map[string]string{
				"ci/prod/web/_result/" + sha + ".json": webResult("failed", `"Deployment web: pod web-1 \"CrashLoopBackOff\""`, deps, "", ""),
			},
		},
		{
			name: "superseded by a deployed commit: markers too", prefix: "ci",
			u: with(func(u *status.Update) { u.State, u.CarriedBy, u.Outcome = status.Superseded, carrier, status.Deployed }),
			want: map[string]string{
				"ci/prod/web/api/" + sha:               "2026-05-01T10:00:42Z",
				"ci/prod/web/api/0123456":              "2026-05-01T10:00:42Z",
				"ci/prod/web/web/" + sha:               "2026-05-01T10:00:42Z",
				"ci/prod/web/web/0123456":              "2026-05-01T10:00:42Z",
				"ci/prod/web/_result/" + sha + ".json": webResult("superseded", `""`, deps, carrier, "deployed"),
			},
		},
		{
			name: "superseded by a failed commit", prefix: "ci",
			u: with(func(u *status.Update) {
				u.State, u.CarriedBy, u.Outcome, u.Reason = status.Superseded, carrier, status.Failed, "ImagePullBackOff"
			}),
			want: map[string]string{
				"ci/prod/web/_result/" + sha + ".json": webResult("superseded", `"ImagePullBackOff"`, deps, carrier, "failed"),
			},
		},
		{name: "applying writes nothing", u: with(func(u *status.Update) { u.State = status.Applying }), want: map[string]string{}},
		{name: "rolling out writes nothing", u: with(func(u *status.Update) { u.State = status.RollingOut }), want: map[string]string{}},
		{name: "superseded with no outcome yet writes nothing", u: with(func(u *status.Update) { u.State, u.CarriedBy = status.Superseded, carrier }), want: map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bucket := fmt.Sprintf("markers-%d", i)
			require.NoError(t, srv.CreateBucket(ctx, bucket))
			rec := &recorder{API: client}
			r, err := s3marker.New(rec, s3marker.Options{Bucket: bucket, Prefix: tc.prefix})
			require.NoError(t, err)
			require.NoError(t, r.Report(ctx, tc.u))
			require.Equal(t, tc.want, objects(t, client, bucket))
			require.Len(t, rec.puts, len(tc.want))
			if len(tc.want) > 0 {
				require.True(t, strings.HasSuffix(rec.puts[len(rec.puts)-1], ".json"), "the result is written last: %v", rec.puts)
			}

			// A replay (after a crash) reads the result and writes nothing.
			rec.puts = nil
			require.NoError(t, r.Report(ctx, tc.u))
			require.Empty(t, rec.puts)
			require.Equal(t, tc.want, objects(t, client, bucket))
		})
	}
}

func TestClusterFromOptions(t *testing.T) {
	srv, r := startMarkers(t, s3marker.Options{Cluster: "eu-1"})
	ctx := context.Background()
	require.NoError(t, r.Report(ctx, status.Update{Cluster: "ignored", Namespace: "web", SHA: sha, State: status.Failed, Reason: "x", FinishedAt: finished}))
	res, err := s3marker.ReadResult(ctx, srv.Client(), "markers", s3marker.ResultKey("", "eu-1", "web", sha))
	require.NoError(t, err)
	require.Equal(t, "eu-1", res.Cluster)
	require.Equal(t, status.Failed, res.Effective())
	require.Equal(t, finished, *res.FinishedAt)
	require.Nil(t, res.AppliedAt)
	require.Equal(t, []string{}, res.Deployments)

	_, err = s3marker.ReadResult(ctx, srv.Client(), "markers", s3marker.ResultKey("", "eu-1", "web", carrier))
	require.ErrorIs(t, err, s3marker.ErrNotFound)

	// An object that is not a result says so.
	key := s3marker.ResultKey("", "eu-1", "web", carrier)
	_, err = srv.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("markers"), Key: aws.String(key), Body: strings.NewReader("<html>")})
	require.NoError(t, err)
	_, err = s3marker.ReadResult(ctx, srv.Client(), "markers", key)
	require.ErrorIs(t, err, s3marker.ErrBadResult)
	require.NotErrorIs(t, err, s3marker.ErrNotFound)
}

func TestAChangedResultIsRewritten(t *testing.T) {
	srv, r := startMarkers(t, s3marker.Options{})
	ctx := context.Background()
	u := status.Update{Cluster: "prod", Namespace: "web", SHA: sha, State: status.Failed, Reason: "health timeout", FinishedAt: finished, Deployments: []string{"web"}}
	require.NoError(t, r.Report(ctx, u))
	u.State, u.Reason, u.FinishedAt = status.Deployed, "", finished.Add(time.Minute) // applied again and deployed
	require.NoError(t, r.Report(ctx, u))
	res, err := s3marker.ReadResult(ctx, srv.Client(), "markers", s3marker.ResultKey("", "prod", "web", sha))
	require.NoError(t, err)
	require.Equal(t, status.Deployed, res.State)
	b, err := s3marker.Read(ctx, srv.Client(), "markers", "prod/web/web/0123456")
	require.NoError(t, err)
	require.Equal(t, "2026-05-01T10:01:42Z", string(b))
}

func TestObjectsArePrivate(t *testing.T) {
	srv, r := startMarkers(t, s3marker.Options{})
	ctx := context.Background()
	require.NoError(t, r.Report(ctx, status.Update{Cluster: "prod", Namespace: "web", SHA: sha, State: status.Deployed, FinishedAt: finished, Deployments: []string{"web"}}))
	for _, key := range []string{"prod/web/web/" + sha, s3marker.ResultKey("", "prod", "web", sha)} {
		resp, err := http.Get(srv.Endpoint() + "/markers/" + key)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "anonymous read of %s: %s", key, body)
		require.False(t, bytes.Contains(body, []byte("2026-05-01")), "no content leaks")
	}
}

func TestErrors(t *testing.T) {
	srv := startS3(t)
	ctx := context.Background()
	require.NoError(t, srv.CreateBucket(ctx, "markers"))
	u := status.Update{Cluster: "prod", Namespace: "web", SHA: sha, State: status.Deployed, FinishedAt: finished, Deployments: []string{"web"}}
	wrongSecret := s3.New(s3.Options{Region: srv.Region(), BaseEndpoint: aws.String(srv.Endpoint()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey(), "not-the-secret", ""), Retryer: aws.NopRetryer{}})
	unknownKey := s3.New(s3.Options{Region: srv.Region(), BaseEndpoint: aws.String(srv.Endpoint()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAUNKNOWN", "secret", ""), Retryer: aws.NopRetryer{}})
	for _, tc := range []struct {
		name      string
		client    s3marker.API
		bucket    string
		permanent bool
		contains  string
	}{
		{"no such bucket", srv.Client(), "no-such-bucket", true, "S3_BUCKET"},
		{"wrong secret", wrongSecret, "markers", true, "AWS credentials"},
		{"unknown access key", unknownKey, "markers", true, "AWS credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s3marker.New(tc.client, s3marker.Options{Bucket: tc.bucket})
			require.NoError(t, err)
			err = r.Report(ctx, u)
			require.Error(t, err)
			require.Equal(t, tc.permanent, status.IsPermanent(err), "%v", err)
			require.Contains(t, err.Error(), tc.contains)
		})
	}

	t.Run("server down is transient", func(t *testing.T) {
		r, err := s3marker.New(srv.Client(), s3marker.Options{Bucket: "markers"})
		require.NoError(t, err)
		srv.Stop()
		defer func() { require.NoError(t, srv.Restart(ctx)) }()
		err = r.Report(ctx, u)
		require.Error(t, err)
		require.False(t, status.IsPermanent(err), "%v", err)
	})

	noCluster, err := s3marker.New(srv.Client(), s3marker.Options{Bucket: "markers"})
	require.NoError(t, err)
	anon := u
	anon.Cluster = ""
	err = noCluster.Report(ctx, anon)
	require.True(t, status.IsPermanent(err), "%v", err)
	require.ErrorContains(t, err, "CLUSTER_NAME")

	_, err = s3marker.New(nil, s3marker.Options{Bucket: "b"})
	require.Error(t, err)
	_, err = s3marker.New(srv.Client(), s3marker.Options{})
	require.ErrorContains(t, err, "S3_BUCKET")
}

func TestNewClientUsesTheDefaultCredentialChain(t *testing.T) {
	srv := startS3(t)
	ctx := context.Background()
	require.NoError(t, srv.CreateBucket(ctx, "markers"))
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	c, err := s3marker.NewClient(ctx, s3marker.Options{Endpoint: srv.Endpoint(), Region: srv.Region()})
	require.NoError(t, err)
	r, err := s3marker.New(c, s3marker.Options{Bucket: "markers", Prefix: "p"})
	require.NoError(t, err)
	require.NoError(t, r.Report(ctx, status.Update{Cluster: "prod", Namespace: "web", SHA: sha, State: status.Deployed, FinishedAt: finished, Deployments: []string{"web"}}))
	keys := []string{}
	for k := range objects(t, srv.Client(), "markers") {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	require.Equal(t, []string{"p/prod/web/_result/" + sha + ".json", "p/prod/web/web/0123456", "p/prod/web/web/" + sha}, keys)
	_, err = s3marker.Read(ctx, c, "markers", "p/none")
	require.ErrorIs(t, err, s3marker.ErrNotFound)
}

func TestKeys(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"", "prod/web/_result/" + sha + ".json"},
		{"ci", "ci/prod/web/_result/" + sha + ".json"},
		{"/ci/markers/", "ci/markers/prod/web/_result/" + sha + ".json"},
	} {
		require.Equal(t, tc.want, s3marker.ResultKey(tc.prefix, "prod", "web", sha))
	}
	require.Equal(t, "web/0123456", s3marker.MarkerKey("", "", "", "web", "0123456"))
	require.Equal(t, "ci/prod/web/api/"+sha, s3marker.MarkerKey("ci", "prod", "web", "api", sha))
}
