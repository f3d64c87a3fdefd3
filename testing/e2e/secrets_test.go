package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/sopstest"
)

// SOPS-encrypted Secrets in the config repo: one syncgate has the key of
// is decrypted and applied; a change to it is previewed with its value
// hidden; one encrypted for a key syncgate lacks, and one changed after
// it was encrypted, are refused, naming their file, with the cluster
// unchanged. No plaintext reaches the log, the
// Events, the Version, the commit statuses and preview comments, the S3
// markers, the /wait and /previews answers, or the previews' ledger.
func TestEncryptedSecretsEndToEnd(t *testing.T) {
	gh, e := githubEnv(t, []string{"acme/config"}, "SOPS_SECRET=sops-keys")
	gh.OpenPull("acme/config", 1)
	ns, ctx := e.ns, t.Context()

	id, recipient, err := sopstest.AgeKey()
	require.NoError(t, err)
	_, stranger, err := sopstest.AgeKey()
	require.NoError(t, err)
	_, err = e.kube.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sops-keys"},
		Data:       map[string][]byte{"age.agekey": []byte(id + "\n")},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	encrypted := func(name, value, to string) string {
		doc, err := sopstest.EncryptYAML([]byte(secretYAML(name, value)), sopstest.Options{AgeRecipients: []string{to}, EncryptedRegex: "^(data|stringData)$"})
		require.NoError(t, err)
		require.NotContains(t, string(doc), value)
		return string(doc)
	}
	// The plaintexts, each in its own place; none may leave syncgate.
	applied, previewed, refused := "applied-plaintext-7f3a", "previewed-plaintext-91c2", "refused-plaintext-c4d8"

	base := e.commit("encrypted secret", map[string]string{ns + "/secret.yaml": encrypted("db", applied, recipient)})
	e.start()
	code, body := e.waitFinal(base)
	require.Equal(t, http.StatusOK, code, body)
	sec, err := e.kube.CoreV1().Secrets(ns).Get(ctx, "db", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, applied, string(sec.Data["password"]), "decrypted and applied")

	// A pull request rotating the value: previewed with the value hidden.
	ghCtx := "syncgate/e2e/" + ns + "/preview"
	pr, err := e.repo.CommitRef("refs/pull/1/head", "rotate", map[string]string{ns + "/secret.yaml": encrypted("db", previewed, recipient)})
	require.NoError(t, err)
	code, body = e.pullRequest("opened", 1, pr, "acme/config")
	require.Equal(t, http.StatusAccepted, code, body)
	require.Eventually(t, func() bool { s, ok := gh.Latest("acme/config", pr, ghCtx); return ok && s.State != "pending" }, 60*time.Second, 50*time.Millisecond)
	st, _ := gh.Latest("acme/config", pr, ghCtx)
	require.Equal(t, "success", st.State, st.Description)
	var comments []forge.Comment
	require.Eventually(t, func() bool { comments = gh.Comments("acme/config", 1); return len(comments) == 1 }, 30*time.Second, 50*time.Millisecond)
	require.Contains(t, comments[0].Body, "data.password: changed (value hidden)")

	// Encrypted for a key syncgate lacks: refused, naming the file.
	bad := e.commit("a stranger's secret", map[string]string{ns + "/other.yaml": encrypted("other", refused, stranger)})
	code, body = e.waitFinal(bad)
	require.Equal(t, http.StatusConflict, code, body)
	reason, _ := body["reason"].(string)
	require.Contains(t, reason, ns+"/other.yaml")
	require.Contains(t, reason, `Secret "other"`)
	require.Contains(t, reason, "no decryption key offered opens it")
	_, err = e.kube.CoreV1().Secrets(ns).Get(ctx, "other", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "never applied, as ciphertext or otherwise: %v", err)
	sec, err = e.kube.CoreV1().Secrets(ns).Get(ctx, "db", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, applied, string(sec.Data["password"]), "the cluster unchanged")

	t.Logf("refusal: %s", reason)

	// Changed after it was encrypted (renamed): its MAC does not match.
	renamed := strings.Replace(encrypted("db", refused, recipient), "name: db", "name: admin", 1)
	tampered := e.commit("a renamed secret", map[string]string{ns + "/other.yaml": "", ns + "/secret.yaml": renamed})
	code, body = e.waitFinal(tampered)
	require.Equal(t, http.StatusConflict, code, body)
	reason, _ = body["reason"].(string)
	require.Contains(t, reason, ns+"/secret.yaml")
	require.Contains(t, reason, "its MAC does not match its values")
	t.Logf("refusal: %s", reason)
	_, err = e.kube.CoreV1().Secrets(ns).Get(ctx, "admin", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "never applied: %v", err)

	for _, sha := range []string{bad, tampered} {
		require.Eventually(t, func() bool {
			s, ok := gh.Latest("acme/config", sha, "syncgate/e2e/"+ns)
			return ok && s.State == "failure"
		}, 30*time.Second, 50*time.Millisecond, "the refusal of %s reported", sha)
	}

	preview, err := http.Get(e.url + "/previews/" + pr)
	require.NoError(t, err)
	previewBody, _ := io.ReadAll(preview.Body)
	preview.Body.Close()
	channels := map[string]string{"preview answer": string(previewBody), "wait answer": jsonOf(t, body)}
	log, err := os.ReadFile(e.logPath)
	require.NoError(t, err)
	channels["log"] = string(log)
	// Events are written by a broadcaster of their own, after the answers
	// above: the refusal's is waited for, or the check below could pass
	// over the Event that holds the whole reason.
	var events *corev1.EventList
	require.Eventually(t, func() bool {
		var err error
		events, err = e.kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, ev := range events.Items {
			if strings.Contains(ev.Message, "its MAC does not match its values") {
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "the refusal recorded in an Event")
	channels["events"] = jsonOf(t, events)
	channels["version"] = jsonOf(t, e.version())
	var calls strings.Builder
	for _, c := range gh.Calls() {
		calls.WriteString(c.Path + " " + c.Body + "\n")
	}
	channels["statuses and comments"] = calls.String()
	ledger, err := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, "syncgate-previews", metav1.GetOptions{})
	require.NoError(t, err)
	channels["previews ledger"] = jsonOf(t, ledger)
	var markers strings.Builder
	require.NoError(t, filepath.WalkDir(e.s3.DataDir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		markers.Write(b)
		return err
	}))
	require.NotEmpty(t, markers.String(), "the markers were written")
	channels["S3 markers"] = markers.String()
	for name, text := range channels {
		for _, p := range []string{applied, previewed, refused} {
			require.NotContains(t, text, p, name)
			require.NotContains(t, text, base64.StdEncoding.EncodeToString([]byte(p)), name)
		}
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
