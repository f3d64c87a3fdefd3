package s3server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/s3server"
)

func put(ctx context.Context, c *s3.Client, bucket, key, body string) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	return err
}

func get(ctx context.Context, c *s3.Client, bucket, key string) (string, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), err
}

func TestObjectsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	srv := s3server.StartT(t, s3server.Options{})
	bucket := srv.BucketT(t, "markers")
	c := srv.Client()
	require.NoError(t, put(ctx, c, bucket, "prod/web/0123abc.json", `{"state":"deployed"}`))
	got, err := get(ctx, c, bucket, "prod/web/0123abc.json")
	require.NoError(t, err)
	require.Equal(t, `{"state":"deployed"}`, got)
	endpoint := srv.Endpoint()

	for _, tc := range []struct {
		name string
		down func()
	}{
		{"stop", srv.Stop},
		{"kill", srv.Kill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.down()
			require.False(t, srv.Running())
			_, err := get(ctx, c, bucket, "prod/web/0123abc.json")
			var opErr *net.OpError
			require.ErrorAs(t, err, &opErr, "nothing listens while the server is down: %v", err)
			require.Error(t, put(ctx, c, bucket, "during-outage", "x"))

			require.NoError(t, srv.Restart(ctx))
			require.True(t, srv.Running())
			require.Equal(t, endpoint, srv.Endpoint(), "same port")
			got, err := get(ctx, c, bucket, "prod/web/0123abc.json")
			require.NoError(t, err, "the client made before the outage works again")
			require.Equal(t, `{"state":"deployed"}`, got)
			_, err = get(ctx, c, bucket, "during-outage")
			var nsk interface{ ErrorCode() string }
			require.ErrorAs(t, err, &nsk)
			require.Equal(t, "NoSuchKey", nsk.ErrorCode())
		})
	}
	t.Run("restart while running", func(t *testing.T) {
		require.NoError(t, srv.Restart(ctx))
		_, err := get(ctx, c, bucket, "prod/web/0123abc.json")
		require.NoError(t, err)
	})
}

func TestCredentialsAreRequired(t *testing.T) {
	ctx := context.Background()
	srv := s3server.StartT(t, s3server.Options{Region: "eu-west-3"})
	require.Equal(t, "eu-west-3", srv.Region())
	bucket := srv.BucketT(t, "private")
	require.Error(t, srv.CreateBucket(ctx, bucket), "a bucket of that name exists")
	require.DirExists(t, filepath.Join(srv.DataDir(), bucket), "posix backend: a bucket is a directory")

	wrong := s3.New(s3.Options{
		Region: srv.Region(), BaseEndpoint: aws.String(srv.Endpoint()), UsePathStyle: true, Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey(), "not-the-secret", ""),
	})
	err := put(ctx, wrong, bucket, "k", "v")
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "SignatureDoesNotMatch", apiErr.ErrorCode())

	other := s3server.StartT(t, s3server.Options{})
	require.NotEqual(t, srv.AccessKey(), other.AccessKey(), "credentials are generated per server")
	require.NotEqual(t, srv.Endpoint(), other.Endpoint())
	require.Contains(t, srv.Env(), "AWS_SECRET_ACCESS_KEY="+srv.SecretKey())
}

func TestCloseRemovesTheData(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the S3 server (not in -short mode)")
	}
	ctx := context.Background()
	srv, err := s3server.Start(ctx, s3server.Options{})
	require.NoError(t, err)
	require.NoError(t, srv.CreateBucket(ctx, "kept"))
	data := srv.DataDir()
	srv.Close()
	srv.Close()
	_, err = os.Stat(data)
	require.True(t, errors.Is(err, os.ErrNotExist), "%v", err)

	kept := t.TempDir()
	srv, err = s3server.Start(ctx, s3server.Options{Dir: kept})
	require.NoError(t, err)
	require.NoError(t, srv.CreateBucket(ctx, "kept"))
	srv.Close()
	require.DirExists(t, filepath.Join(kept, "data", "kept"), "a given Dir is left in place")
}
