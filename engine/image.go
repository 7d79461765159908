package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/containers/podman/v5/pkg/bindings/images"
)

// BusyboxPath is where Debian's busybox-static puts its static binary.
const BusyboxPath = "/bin/busybox"

// minimalConfig is the image config of the minimal image.
var minimalConfig = []string{
	"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"ENV HOME=/root",
	"WORKDIR /",
	`CMD ["/bin/sh"]`,
}

// EnsureDefaultImage builds the minimal image when it is missing. notify gets
// a one-line notice before a build.
func (e *Engine) EnsureDefaultImage(ctx context.Context, notify func(string)) error {
	ok, err := e.ImageExists(ctx, DefaultImage)
	if err != nil || ok {
		return err
	}
	if notify != nil {
		notify("pocketdock: building the default image " + DefaultImage + " from the host's busybox (once)")
	}
	_, err = e.BuildMinimalImage(ctx, DefaultImage)
	return err
}

// BuildMinimalImage makes a small, usable Linux image from the host's static
// busybox, offline, through the API: applet links, /tmp, root and an
// unprivileged sandbox user. It returns the image id.
func (e *Engine) BuildMinimalImage(ctx context.Context, ref string) (string, error) {
	rootfs, err := minimalRootfs(BusyboxPath)
	if err != nil {
		return "", err
	}
	rep, err := images.Import(e.ctx(ctx), bytes.NewReader(rootfs),
		new(images.ImportOptions).WithReference(ref).WithChanges(minimalConfig).WithMessage("pocketdock minimal image"))
	if err != nil {
		return "", e.wrap(err, "build "+ref, EngineError)
	}
	return rep.Id, nil
}

// minimalRootfs writes the tar of the minimal image's filesystem.
func minimalRootfs(busybox string) ([]byte, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, (&Error{Kind: ImageNotFound, Message: "cannot build the default image: " + busybox + " is missing", Err: err}).
			WithHint("install Debian's busybox-static (apt-get install busybox-static), or pass image=")
	}
	out, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return nil, Errorf(ImageNotFound, "cannot build the default image: %s does not list its applets", busybox).
			WithHint("install Debian's busybox-static: a static busybox is needed")
	}
	applets := strings.Fields(string(out))
	sort.Strings(applets)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	dir := func(name string, mode int64, uid int) {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: now})
	}
	file := func(name string, mode int64, data []byte) {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: now})
		tw.Write(data)
	}
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "usr/local", "usr/local/bin", "etc", "dev", "proc", "sys", "run", "var", "var/log", "home", "opt"} {
		dir(d, 0o755, 0)
	}
	dir("tmp", 0o1777, 0)
	dir("var/tmp", 0o1777, 0)
	dir("root", 0o700, 0)
	dir("home/sandbox", 0o755, 1000)
	file("bin/busybox", 0o755, bin)
	file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nsandbox:x:1000:1000:sandbox:/home/sandbox:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"))
	file("etc/group", 0o644, []byte("root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n"))
	file("etc/shadow", 0o640, []byte("root:*:19000:0:99999:7:::\nsandbox:*:19000:0:99999:7:::\n"))
	file("etc/os-release", 0o644, []byte("NAME=\"pocketdock minimal\"\nID=pocketdock-minimal\nPRETTY_NAME=\"pocketdock minimal (busybox)\"\n"))
	seen := map[string]bool{"bin/busybox": true}
	for _, a := range applets {
		if seen[a] || strings.Contains(a, "..") {
			continue
		}
		seen[a] = true
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: a, Linkname: "/bin/busybox", Mode: 0o777, ModTime: now})
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ImageInfo is one image as listed.
type ImageInfo struct {
	ID      string            `json:"id"`
	Tags    []string          `json:"tags"` // empty, never nil, for an untagged image
	Size    int64             `json:"size"`
	Created time.Time         `json:"created"` // UTC, to the second
	Labels  map[string]string `json:"-"`
}

// Images lists the engine's images.
func (e *Engine) Images(ctx context.Context) ([]ImageInfo, error) {
	list, err := images.List(e.ctx(ctx), nil)
	if err != nil {
		return nil, e.wrap(err, "list images", EngineError)
	}
	out := make([]ImageInfo, 0, len(list))
	for _, im := range list {
		out = append(out, ImageInfo{ID: im.ID, Tags: append([]string{}, im.RepoTags...), Size: im.Size, Created: time.Unix(im.Created, 0).UTC(), Labels: im.Labels})
	}
	return out, nil
}

// RemoveImage removes an image by reference or id.
func (e *Engine) RemoveImage(ctx context.Context, ref string, force bool) error {
	_, errs := images.Remove(e.ctx(ctx), []string{ref}, new(images.RemoveOptions).WithForce(force))
	for _, err := range errs {
		if err != nil {
			return e.wrap(err, "remove image "+ref, ImageNotFound)
		}
	}
	return nil
}

// ImageID returns the id of an image, or ImageNotFound.
func (e *Engine) ImageID(ctx context.Context, ref string) (string, error) {
	im, err := images.GetImage(e.ctx(ctx), ref, nil)
	if err != nil {
		return "", e.wrap(err, "inspect image "+ref, ImageNotFound)
	}
	return im.ID, nil
}

// Pull fetches an image from a registry, reporting progress lines to w.
func (e *Engine) Pull(ctx context.Context, ref string, w io.Writer) (string, error) {
	opts := new(images.PullOptions)
	if w != nil {
		opts = opts.WithProgressWriter(w)
	} else {
		opts = opts.WithQuiet(true)
	}
	ids, err := images.Pull(e.ctx(ctx), ref, opts)
	if err != nil {
		return "", e.wrap(err, "pull "+ref, ImageNotFound)
	}
	if len(ids) == 0 {
		return "", Errorf(ImageNotFound, "pull %s returned no image", ref)
	}
	return ids[0], nil
}

// Save writes images as a docker-archive tar to w.
func (e *Engine) Save(ctx context.Context, refs []string, w io.Writer) error {
	err := images.Export(e.ctx(ctx), refs, w, new(images.ExportOptions).WithFormat("docker-archive"))
	return e.wrap(err, "save "+strings.Join(refs, " "), ImageNotFound)
}

// SaveFile saves images to the host file path, through path.partial renamed
// into place, so a failed save leaves no half-written archive. An error about
// the file wraps its *fs.PathError.
func (e *Engine) SaveFile(ctx context.Context, refs []string, path string) error {
	tmp := path + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return &Error{Kind: InvalidArgument, Message: fmt.Sprintf("cannot write %s: %v", path, err), Err: err}
	}
	err = e.Save(ctx, refs, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// LoadFile loads images from the host file path and returns their names. An
// error about the file wraps its *fs.PathError.
func (e *Engine) LoadFile(ctx context.Context, path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Kind: FileNotFound, Message: fmt.Sprintf("cannot read %s: %v", path, err), Err: err}
	}
	defer f.Close()
	return e.Load(ctx, f)
}

// Load reads images from a tar and returns their names.
func (e *Engine) Load(ctx context.Context, r io.Reader) ([]string, error) {
	rep, err := images.Load(e.ctx(ctx), r)
	if err != nil {
		return nil, e.wrap(err, "load images", EngineError)
	}
	return rep.Names, nil
}

// Tag adds a tag to an image.
func (e *Engine) Tag(ctx context.Context, id, ref string) error {
	repo, tag, err := SplitImageRef(ref)
	if err != nil {
		return err
	}
	return e.wrap(images.Tag(e.ctx(ctx), id, tag, repo, nil), fmt.Sprintf("tag %s as %s", short(id), ref), ImageNotFound)
}
