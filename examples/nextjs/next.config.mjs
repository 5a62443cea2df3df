/** @type {import('next').NextConfig} */
const nextConfig = {
  // Nothing may call out beyond the package registries: no image optimizer downloads,
  // no "powered by" header, no source maps shipped to browsers.
  images: { unoptimized: true },
  poweredByHeader: false,
  productionBrowserSourceMaps: false,
  reactStrictMode: true,
};

export default nextConfig;
