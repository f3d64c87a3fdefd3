package render

import (
	"io/fs"
	"path"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The image-pin layout: images_path holds a registry path, each
// <name>.deployment file a tag for container <name> of Deployment <name>.
const (
	imagesPathFile = "images_path"
	pinSuffix      = ".deployment"
)

var (
	tagRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRE = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	// A registry host (optionally with a port) and lowercase path components,
	// as image references allow.
	repoRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
)

// applyPins applies the pins of each directory, in order, to the merged
// objects; listings holds each directory's entries. Pins in the cluster's
// directory use its images_path, or else the one of ./<ns>/.
func (r *Renderer) applyPins(b *budget, dirs []string, listings [][]fs.DirEntry, namespace string, objs []object) error {
	inherited := ""
	for i, dir := range dirs {
		var err error
		prefix := inherited
		var pins []string
		for _, e := range listings[i] {
			switch {
			case e.IsDir():
			case e.Name() == imagesPathFile:
				if prefix, err = r.imagesPath(b, path.Join(dir, imagesPathFile)); err != nil {
					return err
				}
				if inherited == "" {
					inherited = prefix
				}
			case strings.HasSuffix(e.Name(), pinSuffix):
				pins = append(pins, e.Name())
			}
		}
		for _, p := range pins { // in name order
			if err := r.applyPin(b, path.Join(dir, p), prefix, namespace, objs); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Renderer) imagesPath(bud *budget, file string) (string, error) {
	b, err := bud.readFile(file)
	if err != nil {
		return "", err
	}
	prefix := strings.TrimRight(strings.TrimSpace(string(b)), "/")
	if !repoRE.MatchString(prefix) {
		return "", fileErr(file, because(ErrInvalid, "%q is not a registry path like registry.example.com/team", prefix))
	}
	return prefix, nil
}

func (r *Renderer) applyPin(bud *budget, file, prefix, namespace string, objs []object) error {
	name := strings.TrimSuffix(path.Base(file), pinSuffix)
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fileErr(file, because(ErrInvalid, "%q cannot name a Deployment: %s", name, strings.Join(errs, "; ")))
	}
	if prefix == "" {
		return fileErr(file, because(ErrInvalid, "an image pin needs an %s file beside it (or in %s/)", imagesPathFile, namespace))
	}
	b, err := bud.readFile(file)
	if err != nil {
		return err
	}
	tag := strings.TrimSpace(string(b))
	var image string
	switch {
	case tagRE.MatchString(tag):
		image = prefix + "/" + name + ":" + tag
	case digestRE.MatchString(tag):
		image = prefix + "/" + name + "@" + tag
	default:
		return fileErr(file, because(ErrInvalid, "%q is not an image tag", tag))
	}
	if err := pin(objs, namespace, name, image); err != nil {
		return fileErr(file, err)
	}
	return nil
}

// pin sets the image of container name in Deployment name.
func pin(objs []object, namespace, name, image string) error {
	for i, o := range objs {
		gvk := o.obj.GroupVersionKind()
		if gvk.Group != "apps" || gvk.Kind != "Deployment" || o.obj.GetName() != name || o.obj.GetNamespace() != namespace {
			continue
		}
		spec, _ := o.obj.Object["spec"].(map[string]any)
		template, _ := spec["template"].(map[string]any)
		podSpec, _ := template["spec"].(map[string]any)
		containers, _ := podSpec["containers"].([]any)
		for _, c := range containers {
			if c, ok := c.(map[string]any); ok && c["name"] == name {
				c["image"] = image
				objs[i].pinned = image
				return nil
			}
		}
		return because(ErrPinTarget, "Deployment %q has no container %q", name, name)
	}
	return because(ErrPinTarget, "no Deployment %q is rendered for namespace %s", name, namespace)
}
