package s3marker_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/s3marker"
	"github.com/syncgate/syncgate/testing/s3server"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestMarkersAndResults(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the S3 server")
	}
	ctx := context.Background()
	srv, err := s3server.Start(ctx, s3server.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	require.NoError(t, srv.CreateBucket(ctx, "markers"))
	client := srv.Client()
	r, err := s3marker.New(client, s3marker.Options{Bucket: "markers", Prefix: "ci"})
	require.NoError(t, err)

	applied := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	finished := applied.Add(42 * time.Second)
	base := status.Update{Cluster: "prod", Namespace: "web", SHA: sha, AppliedAt: applied, FinishedAt: finished, Deployments: []string{"api", "web"}}

	keys := func() []string {
		out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("markers")})
		require.NoError(t, err)
		var ks []string
		for _, o := range out.Contents {
			ks = append(ks, *o.Key)
		}
		return ks
	}
	read := func(key string) string {
		b, err := s3marker.Read(ctx, client, "markers", key)
		require.NoError(t, err)
		return string(b)
	}

	// Nothing is written before a commit is final.
	u := base
	u.State = status.RollingOut
	require.NoError(t, r.Report(ctx, u))
	require.Empty(t, keys())

	u.State = status.Deployed
	require.NoError(t, r.Report(ctx, u))
	require.ElementsMatch(t, []string{
		"ci/prod/web/api/" + sha, "ci/prod/web/api/0123456",
		"ci/prod/web/web/" + sha, "ci/prod/web/web/0123456",
		"ci/prod/web/_result/" + sha + ".json",
	}, keys())
	require.Equal(t, "2026-05-01T10:00:42Z", read("ci/prod/web/web/0123456"))
	var res s3marker.Result
	require.NoError(t, json.Unmarshal([]byte(read("ci/prod/web/_result/"+sha+".json")), &res))
	require.Equal(t, status.Deployed, res.State)
	require.Equal(t, "prod", res.Cluster)
	require.Equal(t, []string{"api", "web"}, res.Deployments)

	// A failed commit: a result, no markers.
	failed := base
	failed.SHA, failed.State, failed.Reason = "1111111111111111111111111111111111111111", status.Failed, "Deployment web: CrashLoopBackOff"
	require.NoError(t, r.Report(ctx, failed))
	require.NotContains(t, keys(), "ci/prod/web/web/1111111")
	require.NoError(t, json.Unmarshal([]byte(read("ci/prod/web/_result/"+failed.SHA+".json")), &res))
	require.Equal(t, status.Failed, res.Effective())
	require.Equal(t, "Deployment web: CrashLoopBackOff", res.Reason)

	// A superseded commit carried by a deployed one gets markers too.
	sup := base
	sup.SHA, sup.State, sup.CarriedBy, sup.Outcome = "2222222222222222222222222222222222222222", status.Superseded, sha, status.Deployed
	require.NoError(t, r.Report(ctx, sup))
	require.Contains(t, keys(), "ci/prod/web/web/2222222")
	require.NoError(t, json.Unmarshal([]byte(read("ci/prod/web/_result/"+sup.SHA+".json")), &res))
	require.Equal(t, status.Superseded, res.State)
	require.Equal(t, status.Deployed, res.Effective())
	require.Equal(t, sha, res.CarriedBy)

	// Wrong bucket: refused for good.
	bad, err := s3marker.New(client, s3marker.Options{Bucket: "no-such-bucket"})
	require.NoError(t, err)
	err = bad.Report(ctx, u)
	require.True(t, status.IsPermanent(err), "%v", err)
}
