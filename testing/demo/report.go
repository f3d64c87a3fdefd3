package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/s3server"
)

// report prints where to look, and `syncgate wait` on sha (the agent bin
// the demo built) through the gateway and on S3, and returns the S3 keys
// written.
func (r *runner) report(ctx context.Context, c *cluster.Cluster, s3srv *s3server.Server, url, bin, sha string) ([]string, error) {
	out := r.opts.Out
	fmt.Fprintf(out, "    status page:   %s/\n", url)
	fmt.Fprintf(out, "    versions API:  curl %s/api/v1/versions\n", url)
	fmt.Fprintf(out, "    kubectl:       export KUBECONFIG=%s\n", c.KubeconfigPath())
	fmt.Fprintf(out, "                   kubectl get versions,deployments,pods -n %s\n", Namespace)
	fmt.Fprintf(out, "    syncgate wait: %s wait %s --url %s --namespace %s\n", bin, sha[:7], url, Namespace)
	fmt.Fprintf(out, "    on S3:         %s %s wait %s --s3 s3://%s --s3-endpoint %s --cluster %s --namespace %s\n",
		strings.Join(s3srv.Env(), " "), bin, sha, Bucket, s3srv.Endpoint(), Cluster, Namespace)
	var keys []string
	deadline := time.Now().Add(15 * time.Second)
	for {
		list, err := s3srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(Bucket)})
		if err != nil {
			return nil, err
		}
		keys = keys[:0]
		for _, o := range list.Contents {
			keys = append(keys, *o.Key)
		}
		// Four commits: three deployed (2 markers + 1 result each), one failed (1 result).
		if len(keys) >= 10 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(out, "    S3 bucket %s at %s:\n", Bucket, s3srv.Endpoint())
	for _, k := range keys {
		fmt.Fprintf(out, "      %s\n", k)
	}
	return keys, nil
}

type prefixWriter struct{ w io.Writer }

func prefixed(w io.Writer) io.Writer { return prefixWriter{w} }

func (p prefixWriter) Write(b []byte) (int, error) {
	lines := strings.SplitAfter(string(b), "\n")
	for _, l := range lines {
		if l == "" {
			continue
		}
		if _, err := io.WriteString(p.w, "    "+l); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
