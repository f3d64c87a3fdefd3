package gitserver

// CommitRef commits files (an empty value removes the path) on top of the
// working branch's head and pushes the commit to ref only, as a pull
// request's head is (refs/pull/1/head): the branch itself does not move,
// on the server or in the working clone. It returns the new sha.
func (r *Repo) CommitRef(ref, msg string, files map[string]string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	base, err := r.head()
	if err != nil {
		return "", err
	}
	write := map[string]string{}
	for p, v := range files {
		if v != "" {
			write[p] = v
			continue
		}
		if _, err := git(r.work, nil, "rm", "--quiet", "-r", "--", p); err != nil {
			return "", err
		}
	}
	if err := r.write(write); err != nil {
		return "", err
	}
	sha, err := r.commit(msg)
	if err != nil {
		return "", err
	}
	if _, err := git(r.work, nil, "push", "--quiet", "--force", "origin", "HEAD:"+ref); err != nil {
		return "", err
	}
	_, err = git(r.work, nil, "reset", "--quiet", "--hard", base)
	return sha, err
}
