package future

import (
	"os/exec"
)

func goVet(dir string) (string, error) {
	out, err := exec.Command("go", "vet", dir).CombinedOutput()
	return string(out), err
}
