"""Pure renderers for everything the nodes execute or read: cloud-init, kubeadm configs, shell scripts.

They take plain values (never ``Output``) so they are snapshot-tested and shellchecked offline; the components
call them inside ``Output.apply``.
"""
