"""The embedded offline classifier: EfficientNet-Lite2 (ONNX) plus a calibrated head learned on TrashNet."""
