# gatehouse_proto_library(<target> PROTOS <files...> [IMPORT_DIR <dir>] [GRPC] [DEPENDS <targets...>])
#
# Builds a static library from .proto files with protobuf_generate; with GRPC it also generates
# the gRPC service stubs. Generated headers are found as "<package path>/<name>.pb.h".
function(gatehouse_proto_library target)
  cmake_parse_arguments(ARG "GRPC" "IMPORT_DIR" "PROTOS;DEPENDS" ${ARGN})
  if(NOT ARG_IMPORT_DIR)
    set(ARG_IMPORT_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/generated)
  file(MAKE_DIRECTORY ${out_dir})
  add_library(${target} STATIC ${ARG_PROTOS})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf ${ARG_DEPENDS})
  target_include_directories(${target} PUBLIC ${out_dir})
  set(import_dirs ${ARG_IMPORT_DIR} ${CMAKE_SOURCE_DIR}/proto)
  protobuf_generate(TARGET ${target} LANGUAGE cpp IMPORT_DIRS ${import_dirs} PROTOC_OUT_DIR ${out_dir})
  if(ARG_GRPC)
    target_link_libraries(${target} PUBLIC gRPC::grpc++)
    protobuf_generate(TARGET ${target} LANGUAGE grpc IMPORT_DIRS ${import_dirs} PROTOC_OUT_DIR ${out_dir}
                      GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
                      PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>")
  endif()
  # Generated code is not ours to warn about.
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
