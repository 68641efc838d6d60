{
  "targets": [
    {
      "target_name": "onednn",
      "sources": ["native/addon.cc", "native/common.cc", "native/conv.cc", "native/elementwise.cc", "native/pooling.cc", "native/batchnorm.cc", "native/matmul.cc", "native/optimizer.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('path').join(process.env.DNNL_ROOT || '/usr', 'include')\")"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions"],
      "libraries": ["-ldnnl", "-fopenmp"],
      "ldflags": [
        "<!(node -p \"'-L' + require('path').join(process.env.DNNL_ROOT || '/usr', 'lib')\")",
        "<!(node -p \"'-Wl,-rpath,' + require('path').join(process.env.DNNL_ROOT || '/usr', 'lib')\")"
      ]
    }
  ]
}
