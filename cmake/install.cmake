# Installation: headers, the four libraries (static, or shared with BUILD_SHARED_LIBS), the
# CLI, a CMake package with namespaced targets and one component per library, and
# pkg-config files. README.md ("Library") shows how a project uses them.
include(CMakePackageConfigHelpers)

set(PERSONCLS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/personcls)
install(DIRECTORY include/personcls DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS personcls RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# One export set per component, so that find_package(personcls COMPONENTS runtime) needs
# neither protobuf nor libzip on a machine that has only the runtime's dependencies.
foreach(component runtime onnx checkpoint lib)
  set(target personcls_${component})
  set(name ${component})
  if(component STREQUAL "lib")
    set(name personcls)
  endif()
  install(TARGETS ${target} EXPORT personcls_${name}_targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(EXPORT personcls_${name}_targets NAMESPACE personcls:: FILE personcls-${name}-targets.cmake DESTINATION ${PERSONCLS_CMAKE_DIR})
endforeach()

set(PERSONCLS_SHARED ${BUILD_SHARED_LIBS})
configure_package_config_file(cmake/personclsConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/personclsConfig.cmake
                              INSTALL_DESTINATION ${PERSONCLS_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/personclsConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/personclsConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/personclsConfigVersion.cmake
        DESTINATION ${PERSONCLS_CMAKE_DIR})

# pkg-config: personcls-runtime.pc (TFLite models and images) and personcls.pc (everything).
# Static libraries list their dependencies in Libs.private (pkg-config --static). The
# prefix is found from the .pc file's own place, so `cmake --install --prefix P` works.
file(RELATIVE_PATH PERSONCLS_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" PERSONCLS_PC_TO_PREFIX "${PERSONCLS_PC_TO_PREFIX}")
configure_file(cmake/personcls-runtime.pc.in ${CMAKE_CURRENT_BINARY_DIR}/personcls-runtime.pc @ONLY)
configure_file(cmake/personcls.pc.in ${CMAKE_CURRENT_BINARY_DIR}/personcls.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/personcls-runtime.pc ${CMAKE_CURRENT_BINARY_DIR}/personcls.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
